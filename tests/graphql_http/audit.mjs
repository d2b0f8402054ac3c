// The GraphQL-over-HTTP conformance audits of graphql-http (serverAudits) against a running
// server: `node audit.mjs http://127.0.0.1:8000/graphql`. Prints one line per audit
// (id, status, name, and the reason when it did not pass), then a summary line
// "graphql-http: N passed, N warnings, N notices, N errors"; exits 0 only when every audit
// passed. Run by tests/test_graphql_http.py (which installs the pinned packages: npm ci).
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs URL   (the server\'s /graphql endpoint)');
  process.exit(2);
}

const audits = serverAudits({ url, fetchFn: fetch });
const counts = { ok: 0, warn: 0, notice: 0, error: 0 };
for (const { fn } of audits) {
  // one after the other: a failing audit's output stays next to its line
  const result = await fn();
  counts[result.status] = (counts[result.status] ?? 0) + 1;
  let line = `${result.id} ${result.status} ${result.name}`;
  if (result.status !== 'ok') {
    const response = result.response;
    let body = '';
    try {
      body = response ? await response.text() : '';
    } catch {
      // a body already read by the audit
    }
    const type = response?.headers.get('content-type') ?? '';
    line += `\n    ${result.reason}\n    HTTP ${response?.status} ${type} ${body.slice(0, 300)}`;
  }
  console.log(line);
}
console.log(
  `graphql-http: ${counts.ok} passed, ${counts.warn} warnings, ${counts.notice} notices, ` +
    `${counts.error} errors (of ${audits.length})`,
);
process.exit(counts.ok === audits.length ? 0 : 1);
