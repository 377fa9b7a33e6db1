import type { api, CallToolResult, ScopedTool, ToolDefinition } from '@vmcp/contracts';
import type { ConnectorInfo } from '@vmcp/connectors';
import type { z } from 'zod';

/** A tool of a user's scoped list as the API shows it. */
export function toApiTool(t: ScopedTool) {
  return { ...catalogTool(t.connector, t.definition, t.name), connection_name: t.connection_name };
}

/** A tool definition as the API shows it (snake_case schemas), under the name given. */
function catalogTool(connector: string, definition: ToolDefinition, name = definition.name) {
  const { inputSchema, outputSchema, annotations, description, title } = definition;
  return {
    name,
    connector,
    ...(typeof title === 'string' ? { title } : {}),
    ...(description !== undefined ? { description } : {}),
    input_schema: inputSchema,
    ...(outputSchema ? { output_schema: outputSchema } : {}),
    ...(annotations ? { annotations } : {}),
  };
}

/** The static tool definitions of these connectors, for the API. */
export function catalogTools(infos: readonly ConnectorInfo[]) {
  return infos.flatMap((info) => (info.tools ?? []).map((t) => catalogTool(info.id, t)));
}

/**
 * `data` is what a function-calling framework wants back: the structured content, else
 * the text as JSON when it is JSON, else the text. An error result keeps its text in
 * `error`, as the agent would have read it over MCP.
 */
export function executeReply(executionId: string, result: CallToolResult): z.output<typeof api.ExecuteToolReply> {
  const text = result.content
    .flatMap((block) => (block.type === 'text' && typeof block.text === 'string' ? [block.text] : []))
    .join('\n');
  if (result.isError) {
    return { execution_id: executionId, successful: false, data: null, error: text || 'the tool reported an error', content: result.content };
  }
  return { execution_id: executionId, successful: true, data: result.structuredContent ?? jsonOrText(text), error: null, content: result.content };
}

function jsonOrText(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
