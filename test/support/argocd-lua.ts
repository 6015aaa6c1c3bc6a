/**
 * Runs Tandem's Argo CD Lua scripts with a real Lua 5.1 interpreter (Argo CD embeds gopher-lua, a Lua
 * 5.1), the way Argo CD calls scripts from argocd-cm (util/lua/lua.go, v3.2): globals `obj` and
 * `actionParams`, and only the base, package and table libraries: no `string`, `math` or `os` (only
 * `require("os")`, with time and date), and no string methods (`s:sub()`): gopher-lua sets the
 * string metatable only when it opens `string`. The fast check; test/unit/argocd/argocd-vm.test.ts runs the same tests in
 * Argo CD itself.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ARGOCD_DIR = new URL('../../config/argocd/', import.meta.url).pathname;
export const LUA = process.env['LUA'] ?? 'lua5.1';

export type LuaOutcome = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: string };

/** A JSON value as a Lua expression. JSON null becomes nil, as in Argo CD. */
export function toLua(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  if (typeof v === 'string') return luaString(v);
  if (Array.isArray(v)) return `{${v.map(toLua).join(', ')}}`;
  return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `[${luaString(k)}] = ${toLua(x)}`).join(', ')}}`;
}

const luaString = (s: string): string =>
  `"${[...Buffer.from(s, 'utf8')].map((b) => (b === 0x22 || b === 0x5c ? `\\${String.fromCharCode(b)}` : b < 0x20 || b > 0x7e ? `\\${b}` : String.fromCharCode(b))).join('')}"`;

// Tables with keys 1..n are arrays; an empty table is written {} (see normalize). The encoder keeps
// its own references to string/math functions, which the script's environment does not have.
const HARNESS = `
local sformat, sgsub, sbyte, floor, abs, concat = string.format, string.gsub, string.byte, math.floor, math.abs, table.concat
local function encode(v)
  local t = type(v)
  if t == "nil" then return "null" end
  if t == "boolean" then return tostring(v) end
  if t == "number" then
    if v == floor(v) and abs(v) < 2^53 then return sformat("%d", v) end
    return sformat("%.17g", v)
  end
  if t == "string" then
    return '"' .. sgsub(v, '[%c"\\\\]', function(c) return sformat("\\\\u%04x", sbyte(c)) end) .. '"'
  end
  if t == "table" then
    local n = 0
    for _ in pairs(v) do n = n + 1 end
    local parts = {}
    if n > 0 and n == #v then
      for i = 1, n do parts[i] = encode(v[i]) end
      return "[" .. concat(parts, ",") .. "]"
    end
    for k, x in pairs(v) do parts[#parts + 1] = encode(tostring(k)) .. ":" .. encode(x) end
    return "{" .. concat(parts, ",") .. "}"
  end
  error("cannot encode a " .. t)
end
local script = assert(loadfile(SCRIPT))
-- gopher-lua's base library (baselib.go), package and table. Argo CD's OpenSafeOs (oslib_safe.go)
-- registers its time and date under the table library's name, which leaves no global os at all
-- (test/unit/argocd/argocd-vm.test.ts shows it); require("os") returns them from package.preload.
local safeOs = { time = os.time, date = os.date }
local function require(name)
  if name == "os" then return safeOs end
  error("module '" .. name .. "' not found", 2)
end
local env = {
  assert = assert, collectgarbage = collectgarbage, dofile = dofile, error = error, getfenv = getfenv,
  getmetatable = getmetatable, load = load, loadfile = loadfile, loadstring = loadstring, next = next,
  pcall = pcall, print = print, rawequal = rawequal, rawget = rawget, rawset = rawset, select = select,
  setfenv = setfenv, setmetatable = setmetatable, tonumber = tonumber, tostring = tostring, type = type,
  unpack = unpack, xpcall = xpcall, module = module, require = require, newproxy = newproxy,
  ipairs = ipairs, pairs = pairs, _VERSION = _VERSION,
  package = package, table = table,
  obj = OBJ, actionParams = {},
}
env._G = env
setfenv(script, env)
local stringMeta = getmetatable("")
debug.setmetatable("", nil)
local ok, result = pcall(script)
debug.setmetatable("", stringMeta)
if ok then
  io.write('{"ok":true,"result":' .. encode(result) .. '}')
else
  io.write('{"ok":false,"error":' .. encode(tostring(result)) .. '}')
end
`;

/** Runs one script (a path under config/argocd/) against an object. */
export function runLua(script: string, obj: unknown): LuaOutcome {
  return runLuaFile(join(ARGOCD_DIR, script), obj);
}

/** Runs a Lua file at any path against an object. */
export function runLuaFile(path: string, obj: unknown): LuaOutcome {
  const dir = mkdtempSync(join(tmpdir(), 'tandem-lua-'));
  try {
    const main = join(dir, 'main.lua');
    writeFileSync(main, `SCRIPT = ${toLua(path)}\nOBJ = ${toLua(obj)}\n${HARNESS}`);
    return JSON.parse(execFileSync(LUA, [main], { encoding: 'utf8' })) as LuaOutcome;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface HealthStatus {
  readonly status: string;
  readonly message: string;
}

export function health(obj: unknown): HealthStatus {
  const out = runLua('health.lua', obj);
  if (!out.ok) throw new Error(`health.lua failed: ${out.error}`);
  return out.result as HealthStatus;
}

/** discovery.lua's answer as {name: disabled}. */
export function discovery(obj: unknown): Record<string, boolean> {
  const out = runLua('actions/discovery.lua', obj);
  if (!out.ok) throw new Error(`discovery.lua failed: ${out.error}`);
  return Object.fromEntries(Object.entries(out.result as Record<string, { disabled: boolean }>).map(([k, v]) => [k, v.disabled]));
}

export function action(name: string, obj: unknown): LuaOutcome {
  return runLua(`actions/${name}/action.lua`, obj);
}

/**
 * What survives the trip through Lua: nulls vanish and an empty list cannot be told from an empty
 * map. Argo CD diffs an action's output the same lossy way, so comparisons use this form.
 */
export function normalize(v: unknown): unknown {
  if (Array.isArray(v)) return v.length === 0 ? {} : v.map(normalize);
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v).filter(([, x]) => x !== null && x !== undefined);
    return Object.fromEntries(entries.map(([k, x]) => [k, normalize(x)]));
  }
  return v;
}
