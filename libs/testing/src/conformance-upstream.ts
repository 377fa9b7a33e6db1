import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport, type EventStore } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CreateMessageResultSchema,
  ElicitResultSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type CallToolResult,
  type ElicitRequest,
  type JSONRPCMessage,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

export interface ConformanceUpstream {
  /** Streamable HTTP endpoint, e.g. http://127.0.0.1:1234/mcp */
  readonly url: string;
  close(): Promise<void>;
}

export interface ConformanceUpstreamOptions {
  /** When set, every request must carry `Authorization: Bearer <token>` (else 401). */
  readonly bearerToken?: string;
}

// The suite's own sample payloads: a 1x1 PNG and a minimal WAV.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const WAV = 'UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=';

/**
 * The input schema `json-schema-2020-12` expects verbatim in tools/list (SEP-1613, SEP-2106).
 * Zod's converter spreads `.meta()` into the JSON Schema, so the SDK lists exactly this.
 */
const JSON_SCHEMA_2020_12 = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $defs: { address: { $anchor: 'addressDef', type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } } },
  properties: {
    name: { type: 'string' },
    address: { $ref: '#/$defs/address' },
    contactMethod: { type: 'string', enum: ['phone', 'email'] },
    phone: { type: 'string' },
    email: { type: 'string' },
  },
  allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
  if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
  then: { required: ['phone'] },
  else: { required: ['email'] },
  additionalProperties: false,
};

const SEP1034_SCHEMA: ElicitRequest['params'] = {
  mode: 'form',
  message: 'Please review and update the form fields with defaults',
  requestedSchema: {
    type: 'object',
    properties: {
      name: { type: 'string', description: 'User name', default: 'John Doe' },
      age: { type: 'integer', description: 'User age', default: 30 },
      score: { type: 'number', description: 'User score', default: 95.5 },
      status: { type: 'string', description: 'User status', enum: ['active', 'inactive', 'pending'], default: 'active' },
      verified: { type: 'boolean', description: 'Verification status', default: true },
    },
    required: [],
  },
};

const SEP1330_SCHEMA: ElicitRequest['params'] = {
  mode: 'form',
  message: 'Please select options from the enum fields',
  requestedSchema: {
    type: 'object',
    properties: {
      untitledSingle: { type: 'string', description: 'Select one option', enum: ['option1', 'option2', 'option3'] },
      titledSingle: {
        type: 'string',
        description: 'Select one option with titles',
        oneOf: [
          { const: 'value1', title: 'First Option' },
          { const: 'value2', title: 'Second Option' },
          { const: 'value3', title: 'Third Option' },
        ],
      },
      legacyEnum: {
        type: 'string',
        description: 'Select one option (legacy)',
        enum: ['opt1', 'opt2', 'opt3'],
        enumNames: ['Option One', 'Option Two', 'Option Three'],
      },
      untitledMulti: {
        type: 'array',
        description: 'Select multiple options',
        minItems: 1,
        maxItems: 3,
        items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
      },
      titledMulti: {
        type: 'array',
        description: 'Select multiple options with titles',
        minItems: 1,
        maxItems: 3,
        items: {
          anyOf: [
            { const: 'value1', title: 'First Choice' },
            { const: 'value2', title: 'Second Choice' },
            { const: 'value3', title: 'Third Choice' },
          ],
        },
      },
    },
    required: [],
  },
};

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

function loopbackHost(host: string | undefined): boolean {
  const url = host === undefined ? null : URL.parse(`http://${host}`);
  // Any port; nothing but a host and port (no `evil.example@127.0.0.1`).
  return url !== null && !url.username && !url.password && url.pathname === '/' && !url.search && !url.hash && LOOPBACK.has(url.hostname);
}

const text = (t: string): CallToolResult => ({ content: [{ type: 'text', text: t }] });
const failure = (t: string): CallToolResult => ({ content: [{ type: 'text', text: t }], isError: true });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every stream's events, so a client that reconnects with Last-Event-ID gets what it missed. */
function memoryEventStore(): EventStore {
  const events: Array<{ id: string; streamId: string; message: JSONRPCMessage }> = [];
  return {
    async storeEvent(streamId, message) {
      const id = `${streamId}_${String(events.length).padStart(8, '0')}`;
      events.push({ id, streamId, message });
      return id;
    },
    async replayEventsAfter(lastEventId, { send }) {
      const at = events.findIndex((e) => e.id === lastEventId);
      const streamId = events[at]?.streamId ?? '';
      for (const e of events.slice(at + 1)) if (e.streamId === streamId) await send(e.id, e.message);
      return streamId;
    },
  };
}

/**
 * The conformance suite's fixture server (@modelcontextprotocol/conformance, its
 * `scenario-descriptions`): every tool, resource and prompt its server scenarios call,
 * with the exact names and results they check, built with the SDK's McpServer over
 * stateful Streamable HTTP. Run the suite against it directly and it passes; put vmcp in
 * front of it and the difference is vmcp's. It refuses a non-loopback Host or Origin
 * (DNS-rebinding protection), as the suite requires of a local server.
 */
export async function startConformanceUpstream(options: ConformanceUpstreamOptions = {}): Promise<ConformanceUpstream> {
  const transports = new Map<string, StreamableHTTPServerTransport>();

  const build = () => {
    const mcp = new McpServer(
      { name: 'vmcp-conformance-upstream', version: '1.0.0' },
      {
        capabilities: {
          tools: { listChanged: true },
          resources: { subscribe: true, listChanged: true },
          prompts: { listChanged: true },
          logging: {},
          completions: {},
        },
      },
    );

    // ----- tools -----
    mcp.registerTool('test_simple_text', { description: 'Tests simple text content response' }, () => text('This is a simple text response for testing.'));
    mcp.registerTool('test_image_content', { description: 'Tests image content response' }, () => ({
      content: [{ type: 'image', data: PNG, mimeType: 'image/png' }],
    }));
    mcp.registerTool('test_audio_content', { description: 'Tests audio content response' }, () => ({
      content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }],
    }));
    mcp.registerTool('test_embedded_resource', { description: 'Tests embedded resource content response' }, () => ({
      content: [{ type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } }],
    }));
    mcp.registerTool('test_multiple_content_types', { description: 'Tests response with multiple content types (text, image, resource)' }, () => ({
      content: [
        { type: 'text', text: 'Multiple content types test:' },
        { type: 'image', data: PNG, mimeType: 'image/png' },
        { type: 'resource', resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: JSON.stringify({ test: 'data', value: 123 }) } },
      ],
    }));
    mcp.registerTool('test_tool_with_logging', { description: 'Tests tool that emits log messages during execution', inputSchema: {} }, async (_args, extra) => {
      for (const [i, data] of ['Tool execution started', 'Tool processing data', 'Tool execution completed'].entries()) {
        if (i > 0) await sleep(50);
        await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data } });
      }
      return text('Tool with logging executed successfully');
    });
    mcp.registerTool('test_tool_with_progress', { description: 'Tests tool that reports progress notifications', inputSchema: {} }, async (_args, extra) => {
      const progressToken = extra._meta?.progressToken;
      for (const progress of [0, 50, 100]) {
        if (progress > 0) await sleep(50);
        if (progressToken !== undefined) {
          await extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress, total: 100, message: `Completed step ${progress} of 100` } });
        }
      }
      return text(String(progressToken ?? 'no progress token'));
    });
    mcp.registerTool('test_error_handling', { description: 'Tests error response handling' }, () => {
      // McpServer turns a throw into `isError: true` with the message as text.
      throw new Error('This tool intentionally returns an error for testing');
    });
    mcp.registerTool(
      'test_reconnection',
      { description: 'Closes the SSE stream mid-call; the result arrives after the client reconnects (SEP-1699)', inputSchema: {} },
      async (_args, extra) => {
        const transport = extra.sessionId ? transports.get(extra.sessionId) : undefined;
        transport?.closeSSEStream(extra.requestId);
        await sleep(100);
        return text('Reconnection test completed successfully. If you received this, the client properly reconnected after stream closure.');
      },
    );
    mcp.registerTool(
      'test_sampling',
      { description: 'Tests server-initiated sampling (LLM completion request)', inputSchema: { prompt: z.string().describe('The prompt to send to the LLM') } },
      async ({ prompt }, extra) => {
        try {
          const result = await extra.sendRequest(
            { method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens: 100 } },
            CreateMessageResultSchema,
          );
          const content = Array.isArray(result.content) ? result.content[0] : result.content;
          return text(`LLM response: ${content?.type === 'text' ? content.text : 'No response'}`);
        } catch (err) {
          return failure(`Sampling not supported or error: ${(err as Error).message}`);
        }
      },
    );
    const elicit = async (params: ElicitRequest['params'], prefix: string, extra: RequestHandlerExtra<ServerRequest, ServerNotification>) => {
      try {
        const result = await extra.sendRequest({ method: 'elicitation/create', params }, ElicitResultSchema);
        return text(`${prefix}: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`);
      } catch (err) {
        return failure(`Elicitation not supported or error: ${(err as Error).message}`);
      }
    };
    mcp.registerTool(
      'test_elicitation',
      { description: 'Tests server-initiated elicitation (user input request)', inputSchema: { message: z.string().describe('The message to show the user') } },
      ({ message }, extra) =>
        elicit(
          {
            mode: 'form',
            message,
            requestedSchema: { type: 'object', properties: { response: { type: 'string', description: "User's response" } }, required: ['response'] },
          },
          'User response',
          extra,
        ),
    );
    mcp.registerTool('test_elicitation_sep1034_defaults', { description: 'Tests elicitation with default values per SEP-1034', inputSchema: {} }, (_args, extra) =>
      elicit(SEP1034_SCHEMA, 'Elicitation completed', extra),
    );
    mcp.registerTool('test_elicitation_sep1330_enums', { description: 'Tests elicitation with enum schema improvements per SEP-1330', inputSchema: {} }, (_args, extra) =>
      elicit(SEP1330_SCHEMA, 'Elicitation completed', extra),
    );
    // Diagnostics of `server-stateless` (2026-07-28): whatever the upstream does, the agent
    // must see no log it did not ask for, and no request of the server's on its response stream.
    mcp.registerTool('test_logging_tool', { description: 'Sends a log message, asked for or not', inputSchema: {} }, async (_args, extra) => {
      await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data: 'test_logging_tool ran' } });
      return text('test_logging_tool done');
    });
    mcp.registerTool('test_streaming_elicitation', { description: 'Asks the client for input while the call is open', inputSchema: {} }, (_args, extra) =>
      elicit(
        { mode: 'form', message: 'What is your name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } },
        'Elicitation completed',
        extra,
      ),
    );
    // `server-stateless` listen streams: the suite calls this and waits for
    // notifications/tools/list_changed on its subscriptions/listen stream (through vmcp: the
    // upstream tells the executor's pooled session, policy marks the tenant changed, the edge
    // tells the tenant's listen streams).
    let dynamicTools = 0;
    mcp.registerTool('test_trigger_tool_change', { description: 'Adds a tool, so the tool list changes', inputSchema: {} }, async (_args, extra) => {
      const name = `test_dynamic_tool_${++dynamicTools}`;
      mcp.registerTool(name, { description: 'Added by test_trigger_tool_change', inputSchema: {} }, () => text(`${name} ran`));
      // On the call's own stream too: a client without a standalone stream hears it there.
      await extra.sendNotification({ method: 'notifications/tools/list_changed' });
      return text(`added ${name}`);
    });
    mcp.registerTool(
      'json_schema_2020_12_tool',
      {
        description: 'Tool with JSON Schema 2020-12 features',
        inputSchema: z
          .object({
            name: z.string().optional(),
            address: z.object({ street: z.string().optional(), city: z.string().optional() }).optional(),
            contactMethod: z.enum(['phone', 'email']).optional(),
            phone: z.string().optional(),
            email: z.string().optional(),
          })
          .meta(JSON_SCHEMA_2020_12),
      },
      (args) => text(`JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`),
    );

    // ----- resources -----
    mcp.registerResource(
      'static-text',
      'test://static-text',
      { title: 'Static Text Resource', description: 'A static text resource for testing', mimeType: 'text/plain' },
      () => ({ contents: [{ uri: 'test://static-text', mimeType: 'text/plain', text: 'This is the content of the static text resource.' }] }),
    );
    mcp.registerResource(
      'static-binary',
      'test://static-binary',
      { title: 'Static Binary Resource', description: 'A static binary resource (image) for testing', mimeType: 'image/png' },
      () => ({ contents: [{ uri: 'test://static-binary', mimeType: 'image/png', blob: PNG }] }),
    );
    mcp.registerResource(
      'template',
      new ResourceTemplate('test://template/{id}/data', { list: undefined }),
      { title: 'Resource Template', description: 'A resource template with parameter substitution', mimeType: 'application/json' },
      (uri, { id }) => ({
        contents: [{ uri: uri.toString(), mimeType: 'application/json', text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${String(id)}` }) }],
      }),
    );
    mcp.registerResource(
      'watched-resource',
      'test://watched-resource',
      { title: 'Watched Resource', description: 'A resource clients may subscribe to', mimeType: 'text/plain' },
      () => ({ contents: [{ uri: 'test://watched-resource', mimeType: 'text/plain', text: 'Watched resource content' }] }),
    );
    mcp.server.setRequestHandler(SubscribeRequestSchema, () => ({}));
    mcp.server.setRequestHandler(UnsubscribeRequestSchema, () => ({}));

    // ----- prompts -----
    mcp.registerPrompt('test_simple_prompt', { title: 'Simple Test Prompt', description: 'A simple prompt without arguments' }, () => ({
      messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }],
    }));
    mcp.registerPrompt(
      'test_prompt_with_arguments',
      {
        title: 'Prompt With Arguments',
        description: 'A prompt with required arguments',
        argsSchema: {
          arg1: completable(z.string().describe('First test argument'), (value) => ['paris', 'park', 'party'].filter((v) => v.startsWith(value))),
          arg2: z.string().describe('Second test argument'),
        },
      },
      ({ arg1, arg2 }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` } }] }),
    );
    mcp.registerPrompt(
      'test_prompt_with_embedded_resource',
      {
        title: 'Prompt With Embedded Resource',
        description: 'A prompt that includes an embedded resource',
        argsSchema: { resourceUri: z.string().describe('URI of the resource to embed') },
      },
      ({ resourceUri }) => ({
        messages: [
          { role: 'user', content: { type: 'resource', resource: { uri: resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' } } },
          { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
        ],
      }),
    );
    mcp.registerPrompt('test_prompt_with_image', { title: 'Prompt With Image', description: 'A prompt that includes image content' }, () => ({
      messages: [
        { role: 'user', content: { type: 'image', data: PNG, mimeType: 'image/png' } },
        { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
      ],
    }));
    return mcp;
  };

  const refuse = (res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}) =>
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const origin = req.headers.origin;
    if (!loopbackHost(req.headers.host) || (origin !== undefined && !loopbackHost(URL.parse(origin)?.host))) {
      refuse(res, 403, 'Host or Origin not allowed');
      return;
    }
    if (options.bearerToken !== undefined && req.headers.authorization !== `Bearer ${options.bearerToken}`) {
      refuse(res, 401, 'missing or wrong bearer token', { 'www-authenticate': 'Bearer error="invalid_token"' });
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const body: unknown = raw ? JSON.parse(raw) : undefined;
    const sessionId = req.headers['mcp-session-id'];
    let transport = typeof sessionId === 'string' ? transports.get(sessionId) : undefined;
    if (!transport) {
      if (sessionId !== undefined) {
        refuse(res, 404, 'Session not found');
        return;
      }
      if ((body as { method?: unknown } | undefined)?.method !== 'initialize') {
        refuse(res, 400, 'Bad Request: no session; send initialize first');
        return;
      }
      const t: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        eventStore: memoryEventStore(),
        retryInterval: 500,
        onsessioninitialized: (id) => void transports.set(id, t),
      });
      t.onclose = () => {
        if (t.sessionId) transports.delete(t.sessionId);
      };
      await build().connect(t);
      transport = t;
    }
    await transport.handleRequest(req, res, body);
  };

  const http: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) refuse(res, 500, String(err));
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const port = (http.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}/mcp`,
    async close() {
      await Promise.allSettled([...transports.values()].map((t) => t.close()));
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}
