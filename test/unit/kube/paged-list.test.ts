import { describe, expect, it } from 'vitest';
import { pagedList, type Page } from '../../../src/kube/paged-list.ts';

const obj = (i: number) => ({ metadata: { name: `o${i}`, namespace: 'ns', resourceVersion: String(100 + i), managedFields: [{ manager: 'm' }] }, spec: { big: 'x'.repeat(100) } });
const strip = (o: { metadata?: Record<string, unknown> } & Record<string, unknown>) => ({ metadata: { name: o.metadata?.['name'], namespace: o.metadata?.['namespace'] } });

/**
 * A fake API server list of `n` objects at resourceVersion 42, paged as kube-apiserver pages
 * (`limit` items and a continue token while more remain). `continueKey` is how the client returns
 * it: `_continue` for the generated typed clients, `continue` for custom objects.
 */
function fakeList(n: number, continueKey: '_continue' | 'continue') {
  const requests: Page[] = [];
  const list = (page: Page) => {
    requests.push(page);
    const from = page._continue === undefined ? 0 : Number(page._continue.replace('tok-', ''));
    const to = page.limit === undefined ? n : Math.min(n, from + page.limit);
    const more = to < n;
    return Promise.resolve({ metadata: { resourceVersion: '42', ...(more ? { [continueKey]: `tok-${to}` } : {}) }, items: Array.from({ length: to - from }, (_, k) => obj(from + k)) });
  };
  return { list, requests };
}

describe('pagedList', () => {
  for (const key of ['_continue', 'continue'] as const) {
    it(`asks for every page in turn, following the continue token (${key}), and returns every item transformed`, async () => {
      const { list, requests } = fakeList(7, key);
      const l = await pagedList(list, strip, 3)();
      expect(requests).toEqual([{ limit: 3 }, { limit: 3, _continue: 'tok-3' }, { limit: 3, _continue: 'tok-6' }]);
      expect(l.items.map((i) => i.metadata?.name)).toEqual(['o0', 'o1', 'o2', 'o3', 'o4', 'o5', 'o6']);
      expect(l.items[0]).toEqual({ metadata: { name: 'o0', namespace: 'ns' } });
      // The watch resumes from the snapshot's resourceVersion.
      expect(l.metadata?.resourceVersion).toBe('42');
    });
  }

  it('transforms each page before asking for the next (no page is kept whole)', async () => {
    const order: string[] = [];
    const { list } = fakeList(4, '_continue');
    const l = await pagedList(
      async (page) => {
        order.push(`list ${page._continue ?? 'first'}`);
        return list(page);
      },
      (o) => {
        order.push(`transform ${String(o.metadata?.['name'])}`);
        return strip(o);
      },
      2,
    )();
    expect(order).toEqual(['list first', 'transform o0', 'transform o1', 'list tok-2', 'transform o2', 'transform o3']);
    expect(l.items).toHaveLength(4);
  });

  it('with page size 0 makes one request without limit', async () => {
    const { list, requests } = fakeList(5, 'continue');
    const l = await pagedList(list, strip, 0)();
    expect(requests).toEqual([{}]);
    expect(l.items).toHaveLength(5);
    expect(l.metadata?.resourceVersion).toBe('42');
  });

  it('an empty list has the resourceVersion to watch from and no items', async () => {
    const { list, requests } = fakeList(0, '_continue');
    const l = await pagedList(list, strip, 500)();
    expect(requests).toEqual([{ limit: 500 }]);
    expect(l).toEqual({ metadata: { resourceVersion: '42' }, items: [] });
  });

  it('a page that fails (an expired continue token) fails the whole list, so the informer lists again from the first page', async () => {
    const { list } = fakeList(6, '_continue');
    const expired = Object.assign(new Error('410 Gone: the provided continue parameter is too old'), { code: 410 });
    const failing = (page: Page) => (page._continue === 'tok-4' ? Promise.reject(expired) : list(page));
    await expect(pagedList(failing, strip, 2)()).rejects.toBe(expired);
  });
});
