import assert from "node:assert/strict";
import { isIgnored, parseDockerignore } from "./dockerignore.ts";

Deno.test(".dockerignore: folders, globs, ** and exceptions, last match wins", () => {
  const rules = parseDockerignore(`
# comment
node_modules
/build/
*.log
**/tmp
secret?.txt
!keep.log
`);
  assert.equal(isIgnored(rules, "node_modules"), true);
  assert.equal(isIgnored(rules, "node_modules/a/b.js"), true);
  assert.equal(isIgnored(rules, "build/out.o"), true);
  assert.equal(isIgnored(rules, "src/build"), false);
  assert.equal(isIgnored(rules, "app.log"), true);
  assert.equal(isIgnored(rules, "keep.log"), false);
  assert.equal(isIgnored(rules, "src/app.log"), false, "* does not cross folders");
  assert.equal(isIgnored(rules, "a/b/tmp/x"), true);
  assert.equal(isIgnored(rules, "tmp"), true);
  assert.equal(isIgnored(rules, "secret1.txt"), true);
  assert.equal(isIgnored(rules, "Dockerfile"), false);
  assert.equal(isIgnored(parseDockerignore(""), "anything"), false);
});
