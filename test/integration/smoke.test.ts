import { afterEach, describe, expect, it } from 'vitest';
import { startSupervisor, type RunningSupervisor } from '../helpers/supervisor.js';

let sup: RunningSupervisor | undefined;
afterEach(async () => {
  await sup?.kill();
  sup = undefined;
});

describe('smoke', () => {
  it('becomes ready with the fake gateway and stops with 0 on SIGTERM', async () => {
    sup = await startSupervisor();
    await sup.waitFor('gateway.ready');
    const res = await fetch(sup.url('/readyz'));
    expect(res.status).toBe(200);
    const page = await fetch(sup.url('/hello?x=1'));
    expect(await page.text()).toBe('fake gateway GET /hello?x=1');
    sup.signal('SIGTERM');
    const exit = await sup.exited;
    expect(exit.code).toBe(0);
    expect(sup.events('supervisor.signal')).toHaveLength(1);
  });
});
