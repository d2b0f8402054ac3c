// Mesh Compose: ecehub's subgraph (Apollo Federation v2, its SDL read from `_service { sdl }`
// with ECEHUB_SCHEMA_TOKEN, as an operator would) and a partner subgraph that extends Program
// by its id. Every operation sent to ecehub carries the client's own Authorization header,
// so ecehub's access rules decide what the gateway gets. Run by tests/test_federation.py.
import { defineConfig, loadGraphQLHTTPSubgraph } from '@graphql-mesh/compose-cli';

export const composeConfig = defineConfig({
  subgraphs: [
    {
      sourceHandler: loadGraphQLHTTPSubgraph('ecehub', {
        endpoint: process.env.ECEHUB_URL!,
        federation: true,
        schemaHeaders: { authorization: `Bearer ${process.env.ECEHUB_SCHEMA_TOKEN}` },
        operationHeaders: { authorization: '{context.headers.authorization}' },
      }),
    },
    {
      sourceHandler: loadGraphQLHTTPSubgraph('partner', {
        endpoint: process.env.PARTNER_URL!,
        federation: true,
      }),
    },
  ],
});
