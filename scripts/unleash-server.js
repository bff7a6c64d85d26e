// Starts an Unleash server (npm unleash-server 6.x) for flags-unleash's integration
// test: loopback only, PostgreSQL on loopback, API tokens from INIT_ADMIN_API_TOKENS /
// INIT_CLIENT_API_TOKENS (set by scripts/unleash-server.sh), no calls home.
// Run by scripts/unleash-server.sh with NODE_PATH pointing at the cached install.
'use strict';

const unleash = require('unleash-server');

const port = Number(process.env.TEST_UNLEASH_PORT || 44242);
const pgPort = Number(process.env.TEST_UNLEASH_PG_PORT || 54329);

unleash
  .start({
    db: {
      host: '127.0.0.1',
      port: pgPort,
      user: 'unleash',
      password: 'unleash',
      database: 'unleash',
      ssl: false,
    },
    server: { host: '127.0.0.1', port },
    authentication: { type: 'open-source', enableApiToken: true },
    versionCheck: { enable: false },
    telemetry: false,
    logLevel: process.env.TEST_UNLEASH_LOG_LEVEL || 'warn',
  })
  .then(() => console.log(`unleash listening on http://127.0.0.1:${port}`))
  .catch((err) => {
    console.error('unleash failed to start:', err);
    process.exit(1);
  });
