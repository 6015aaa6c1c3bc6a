export { pinnedKey, watchPodInfo } from './pod-info.ts';
export type { PodInfo, PodInfoChange, PodInfoEvents, WatchMode, WatchPodInfoOptions } from './pod-info.ts';
export { readSnapshot } from './atomic-snapshot.ts';
export type { PodInfoSnapshot, SnapshotFiles, SnapshotResult } from './atomic-snapshot.ts';
export { DownwardApiParseError, formatDownwardApi, parseDownwardApi } from './downward-api-format.ts';
export type { DownwardApiParseResult } from './downward-api-format.ts';
export { quoteGo, unquoteGo } from './go-string.ts';
export type { UnquoteResult } from './go-string.ts';
