#!/usr/bin/env node
// Test-only: verify a Sigstore DSSE bundle with sigstore-js (@sigstore/verify), an implementation
// independent of the Python code under test. Offline: trust comes only from the files given.
//
//   node verify_bundle.mjs --bundle B.json --trusted-root ROOT.json --identity ID --issuer ISS
//   node verify_bundle.mjs --bundle B.json --public-key KEY.pem [--trusted-root ROOT.json]
//
// Keyless bundles need --identity (exact SAN) and --issuer (exact OIDC issuer); key-signed
// bundles (verificationMaterial.publicKey) need --public-key. Exit 0 and "OK ..." on success,
// exit 1 and the reason on failure.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import bundleLib from '@sigstore/bundle';
import core from '@sigstore/core';
import specs from '@sigstore/protobuf-specs';
import verify from '@sigstore/verify';

const EMPTY_ROOT = {
  mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
};

function fail(message) {
  console.error(`FAIL: ${message}`);
  process.exit(1);
}

function readJSON(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

// sigstore-js treats the SAN policy as a regular expression: anchor and escape it so the match
// is exact, like sigstore-python's policy.Identity.
function exactPattern(text) {
  return `^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
}

function main() {
  const { values } = parseArgs({
    options: {
      bundle: { type: 'string' },
      'trusted-root': { type: 'string' },
      identity: { type: 'string' },
      issuer: { type: 'string' },
      'public-key': { type: 'string' },
    },
  });
  if (!values.bundle) fail('--bundle is required');

  const bundle = bundleLib.bundleFromJSON(readJSON(values.bundle));
  if (bundle.content.$case !== 'dsseEnvelope') fail('not a DSSE bundle');
  const keyed = bundle.verificationMaterial.content.$case === 'publicKey';

  const rootJSON = values['trusted-root'] ? readJSON(values['trusted-root']) : EMPTY_ROOT;
  const trustedRoot = specs.TrustedRoot.fromJSON(rootJSON);

  let policy;
  let options;
  let keyFinder;
  if (keyed) {
    if (!values['public-key']) fail('key-signed bundle: --public-key is required');
    const publicKey = core.crypto.createPublicKey(readFileSync(values['public-key'], 'utf8'));
    // The hint only names the key; the signature check against the given key is what counts.
    keyFinder = () => ({ publicKey, validFor: () => true });
    // No Fulcio, Rekor or TSA is involved in key mode, so verify any that are present
    // but require none.
    options = { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 };
  } else {
    if (!values.identity || !values.issuer) {
      fail('certificate bundle: --identity and --issuer are required');
    }
    if (!values['trusted-root']) fail('certificate bundle: --trusted-root is required');
    policy = {
      subjectAlternativeName: exactPattern(values.identity),
      extensions: { issuer: values.issuer },
    };
    options = { tlogThreshold: 1, ctlogThreshold: 1, timestampThreshold: 1 };
  }

  const trustMaterial = verify.toTrustMaterial(trustedRoot, keyFinder);
  const verifier = new verify.Verifier(trustMaterial, options);
  const signer = verifier.verify(verify.toSignedEntity(bundle), policy);
  const who = keyed ? 'public key' : signer.identity?.subjectAlternativeName;
  console.log(`OK ${bundle.content.dsseEnvelope.payloadType} signed by ${who}`);
}

try {
  main();
} catch (err) {
  const code = err?.code ? `${err.code}: ` : '';
  const cause = err?.cause ? ` (cause: ${err.cause.message ?? err.cause})` : '';
  fail(`${code}${err?.message ?? err}${cause}`);
}
