// Validates ../manifest.yml with @forge/manifest (the validator `forge lint` and `forge deploy`
// use; it comes with @forge/bridge). Run from forge/ after `npm ci && npm run build` in
// forge/ui (the manifest's resources are the build's folders). Prints the result as JSON;
// exits 1 on any error.
const path = require('node:path');
const { validate } = require('@forge/manifest');

const forgeDir = path.resolve(__dirname, '..');
process.chdir(forgeDir);
validate(false, path.join(forgeDir, 'manifest.yml')).then((result) => {
  const errors = (result.errors || []).map(({ message, level, line }) => ({ message, level, line }));
  console.log(JSON.stringify({ success: result.success, errors }));
  process.exit(result.success && errors.length === 0 ? 0 : 1);
});
