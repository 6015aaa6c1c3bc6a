export const groupKey = (namespace: string, name: string): string => `${namespace}/${name}`;

export function parseGroupKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
