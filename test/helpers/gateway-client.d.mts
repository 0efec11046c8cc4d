import type WebSocket from 'ws';

export interface GatewayRes { type: 'res'; id: string; ok: boolean; payload?: any; error?: { code: string; message: string; details?: any } }
export interface Session {
  ws: WebSocket;
  events: Array<{ type: 'event'; event: string; payload?: any }>;
  closed: Promise<{ code: number; reason: string }>;
  call(method: string, params?: object): Promise<GatewayRes>;
  hello: GatewayRes | null;
  unexpected: { status: number; headers: Record<string, unknown>; body: string } | null;
}
/** The params of a `connect` request as an operator backend with the shared token (protocol 4). */
export function connectParams(token: string): Record<string, unknown>;
export function openSession(url: string, token: string, options?: { timeoutMs?: number; headers?: Record<string, string> }): Promise<Session>;
export interface CheckResult {
  unexpected?: { status: number; body: string };
  hello?: { ok: boolean; type: string | null; error: { code: string; message: string; details?: any } | null; scopes: string[] | null };
  health?: { ok: boolean; error: unknown };
  close?: { code: number; reason: string } | null;
  error?: string;
  code?: string | null;
}
export function connectAndCheck(url: string, token: string, options?: { health?: boolean; headers?: Record<string, string> }): Promise<CheckResult>;
