import { describe, expect, it } from 'vitest';
import { Admission } from '../../../src/common/forward/admission.js';

describe('Admission: what the dispatcher parks and a direct submitter refuses', () => {
  it('lets any type and a body up to max_body_size through', () => {
    const admission = new Admission({ maxBodySize: 100, types: '*' });
    expect(admission.sizeRefusal(100)).toBeUndefined();
    expect(admission.typeRefusal('anything')).toBeUndefined();
  });

  it('refuses a body above max_body_size, saying both sizes', () => {
    const refusal = new Admission({ maxBodySize: 100, types: '*' }).sizeRefusal(101);
    expect(refusal).toMatchObject({ ok: false, code: 'TQ_ERR_TASK_TOO_LARGE' });
    expect(refusal?.reason).toMatch(/101 bytes .* max_body_size \(100 bytes\)/);
  });

  it('refuses a type outside a types list, and lets the listed ones through', () => {
    const admission = new Admission({ maxBodySize: 100, types: ['echo', 'build'] });
    expect(admission.typeRefusal('build')).toBeUndefined();
    expect(admission.typeRefusal('other')).toMatchObject({
      ok: false,
      code: 'TQ_ERR_TASK_TYPE_NOT_ALLOWED',
      reason: 'worker type "other" is not in [dispatcher] types',
    });
  });
});
