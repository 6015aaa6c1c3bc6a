import dagre from '@dagrejs/dagre';
import { useEffect, useState } from 'preact/hooks';
import type { AddressView, EdgeView, MemberView } from '../../../src/dashboard/view-types.ts';
import { short } from './format.ts';

const NODE_W = 250;
const NODE_H = 118;
const LABEL_W = 250;
const LABEL_H = 62;

/** Narrow screens draw the graph top to bottom, so it keeps a readable size. */
function useNarrow(): boolean {
  const query = '(max-width: 720px)';
  const [narrow, setNarrow] = useState(matchMedia(query).matches);
  useEffect(() => {
    const mq = matchMedia(query);
    const on = () => setNarrow(mq.matches);
    mq.addEventListener('change', on);
    return () => mq.removeEventListener('change', on);
  }, []);
  return narrow;
}

export const sideText = (a: AddressView) =>
  a.url ? `${a.role} → ${a.service ?? a.url}${a.targetRole && a.targetRole !== 'other' ? ` (${a.targetRole})` : ''}` : `${a.role} → (no address written)`;

interface Laid {
  width: number;
  height: number;
  nodes: { m: MemberView; x: number; y: number }[];
  edges: { e: EdgeView; points: { x: number; y: number }[]; x: number; y: number }[];
}

/** dagre lays the members out: dependents before what they call, one rank per dependency level. */
function layout(members: readonly MemberView[], edges: readonly EdgeView[], narrow: boolean): Laid {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: narrow ? 'TB' : 'LR', nodesep: 30, ranksep: narrow ? 40 : 60, edgesep: 20, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const m of members) g.setNode(m.rollout, { width: NODE_W, height: NODE_H });
  edges.forEach((e, i) => {
    if (g.hasNode(e.from) && g.hasNode(e.to)) g.setEdge(e.from, e.to, { width: LABEL_W, height: LABEL_H, labelpos: 'c' }, `e${i}`);
  });
  dagre.layout(g);
  const graph = g.graph();
  return {
    width: graph.width ?? NODE_W,
    height: graph.height ?? NODE_H,
    nodes: members.map((m) => {
      const n = g.node(m.rollout);
      return { m, x: n.x - NODE_W / 2, y: n.y - NODE_H / 2 };
    }),
    edges: edges.flatMap((e, i) => {
      const l = g.edge({ v: e.from, w: e.to, name: `e${i}` });
      return l ? [{ e, points: l.points ?? [], x: (l.x ?? 0) - LABEL_W / 2, y: (l.y ?? 0) - LABEL_H / 2 }] : [];
    }),
  };
}

const STATE_CLASS: Record<string, string> = {
  Stable: 'good',
  Promoted: 'good',
  Ready: 'wait',
  Deploying: 'busy',
  Promoting: 'busy',
  Failed: 'bad',
  RolledBack: 'bad',
  Missing: 'bad',
};

/**
 * The dependency graph as SVG: members as nodes (strategy, phase, revisions, images, state), edges
 * from dependent to dependency labelled with the annotation and the address each side is told to call.
 */
export function Graph({ members, edges }: { members: readonly MemberView[]; edges: readonly EdgeView[] }) {
  const narrow = useNarrow();
  const laid = layout(members, edges, narrow);
  const summary = `Dependency graph: ${members.map((m) => `${m.rollout} ${m.state}`).join(', ')}; ${edges.map((e) => `${e.from} calls ${e.to}`).join(', ') || 'no dependencies'}`;
  return (
    <svg class="graph" viewBox={`0 0 ${laid.width} ${laid.height}`} width={laid.width} height={laid.height} role="img" aria-label={summary}>
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse">
          <path d="M 0 0 L 10 5 L 0 10 z" class="arrowhead" />
        </marker>
      </defs>
      {laid.edges.map(({ e, points, x, y }) => (
        <g class={`edge${e.repointed ? ' repointed' : ''}`} data-edge={`${e.from}->${e.to}`}>
          <path d={points.map((p, i) => `${i === 0 ? 'M' : 'L'} ${p.x} ${p.y}`).join(' ')} marker-end="url(#arrow)" />
          <rect x={x} y={y} width={LABEL_W} height={LABEL_H} rx="4" class="edge-label" />
          <text x={x + 8} y={y + 16} class="mono small">{e.annotation}</text>
          <text x={x + 8} y={y + 34} class="small">{sideText(e.newSide)}</text>
          <text x={x + 8} y={y + 52} class="small">
            {sideText(e.liveSide)}
            {e.repointed ? ' · repointed' : ''}
          </text>
        </g>
      ))}
      {laid.nodes.map(({ m, x, y }) => (
        <g class={`node state-${STATE_CLASS[m.state] ?? 'busy'}${m.inRelease ? ' in-release' : ''}`} data-member={m.rollout}>
          <rect x={x} y={y} width={NODE_W} height={NODE_H} rx="6" />
          <text x={x + 10} y={y + 20} class="node-title">
            {m.promotionIndex}. {m.rollout}
          </text>
          <text x={x + NODE_W - 10} y={y + 20} class="node-state" text-anchor="end">{m.state}</text>
          <text x={x + 10} y={y + 40} class="small">
            {m.strategy ?? '?'} · {m.phase ?? 'no phase'}
          </text>
          <text x={x + 10} y={y + 58} class="small mono">stable {short(m.stableRevision)}</text>
          <text x={x + 10} y={y + 76} class="small mono">desired {short(m.desiredRevision)}</text>
          <text x={x + 10} y={y + 96} class="small mono">{(m.images[0] ?? '').slice(-38)}{m.images.length > 1 ? ` +${m.images.length - 1}` : ''}</text>
        </g>
      ))}
    </svg>
  );
}
