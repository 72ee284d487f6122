// The tenant's signing keys through Auth0's Management API paths: list, rotate, revoke.
import { jobsStub } from './config.js';
import { apiError, json } from './http.js';

export const SIGNING_KEY_SCOPES = {
  list: { anyOf: ['read:signing_keys'] },
  rotate: { allOf: ['create:signing_keys', 'update:signing_keys'] },
  revoke: { anyOf: ['update:signing_keys'] },
};

export async function listKeys(env, tenant) {
  return json(200, await jobsStub(env, tenant).listKeys());
}

export async function rotateKeys(env, tenant, nowMs) {
  return json(201, await jobsStub(env, tenant).rotateKeys(nowMs));
}

export async function revokeKey(env, tenant, kid) {
  const r = await jobsStub(env, tenant).revokeKey(kid);
  if (r.error === 'not_found') return apiError(404, 'Signing key not found', 'inexistent_signing_key');
  if (r.error === 'current') return apiError(400, 'The current signing key cannot be revoked; rotate first.', 'invalid_body');
  return json(200, { kid: r.kid, revoked: true });
}
