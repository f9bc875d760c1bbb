#!/usr/bin/env node
// Test-only: sign a payload as a DSSE bundle with sigstore-js (@sigstore/sign), against the
// services named in a ClientTrustConfig (the loopback Sigstore stand-in). Shows the stand-in
// accepts sigstore-js's own Fulcio and Rekor requests, not only sigstore-python's.
//
//   node sign_bundle.mjs --trust-config CONFIG.json --token JWT --payload FILE \
//       [--payload-type application/vnd.in-toto+json] --out BUNDLE.json
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import bundleLib from '@sigstore/bundle';
import specs from '@sigstore/protobuf-specs';
import sign from '@sigstore/sign';

async function main() {
  const { values } = parseArgs({
    options: {
      'trust-config': { type: 'string' },
      token: { type: 'string' },
      payload: { type: 'string' },
      'payload-type': { type: 'string', default: 'application/vnd.in-toto+json' },
      out: { type: 'string' },
    },
  });
  for (const name of ['trust-config', 'token', 'payload', 'out']) {
    if (!values[name]) throw new Error(`--${name} is required`);
  }
  const config = JSON.parse(readFileSync(values['trust-config'], 'utf8'));
  const builder = sign.bundleBuilderFromSigningConfig({
    signingConfig: specs.SigningConfig.fromJSON(config.signingConfig),
    identityProvider: { getToken: async () => values.token },
    bundleType: 'dsseEnvelope',
    fetchOptions: { timeout: 10000, retry: { retries: 0 } },
  });
  const bundle = await builder.create({
    data: readFileSync(values.payload),
    type: values['payload-type'],
  });
  writeFileSync(values.out, JSON.stringify(bundleLib.bundleToJSON(bundle), null, 2));
  console.log(`OK wrote ${values.out}`);
}

main().catch((err) => {
  const cause = err?.cause ? ` (cause: ${err.cause.message ?? err.cause})` : '';
  console.error(`FAIL: ${err?.code ? `${err.code}: ` : ''}${err?.message ?? err}${cause}`);
  process.exit(1);
});
