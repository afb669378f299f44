// s3rver.js - runs s3rver (installed by lambdeck into its npm cache) for the "s3" service
// kind: on S3RVER_ADDRESS:S3RVER_PORT, objects under S3RVER_DIRECTORY. s3rver only knows its
// own dummy key; a local service on loopback accepts any key (as dynalite does), so the
// functions' generated credentials and a developer's own work unchanged.
'use strict';

const mod = process.env.LAMBDECK_S3RVER_MODULE;
const S3rver = require(mod);
const account = require(mod + '/lib/models/account.js');

const registryGet = Map.prototype.get.bind(account.registry);
account.registry.get = (key) => registryGet(key) || account.DUMMY_ACCOUNT;

const server = new S3rver({
  address: process.env.S3RVER_ADDRESS || '127.0.0.1',
  port: Number(process.env.S3RVER_PORT),
  directory: process.env.S3RVER_DIRECTORY,
  silent: false,
  allowMismatchedSignatures: true,
  vhostBuckets: false,
});

server.run().then(
  (addr) => console.log(`s3rver listening on ${addr.address}:${addr.port}`),
  (err) => {
    console.error(`s3rver: ${err.message}`);
    process.exit(1);
  });

for (const sig of ['SIGTERM', 'SIGINT'])
  process.on(sig, () => server.close().then(() => process.exit(0), () => process.exit(1)));
