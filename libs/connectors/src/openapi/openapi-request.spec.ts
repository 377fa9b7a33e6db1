import { describe, expect, it } from 'vitest';
import { ToolError } from '../http/provider-errors.js';
import { compileOpenApi } from './openapi-compile.js';
import { answerValue, buildRequest } from './openapi-request.js';

const param = (name: string, where: string, schema: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ name, in: where, schema, ...extra });
const ARR = { type: 'array', items: { type: 'string' } };
const OBJ = { type: 'object', properties: { r: { type: 'integer' }, g: { type: 'integer' } } };

function operation(path: string, method: string, op: Record<string, unknown>) {
  const api = compileOpenApi({ openapi: '3.0.3', info: { title: 'T', version: '1' }, paths: { [path]: { [method]: { operationId: 'op', ...op } } } });
  return api.operations.get('op')!;
}

describe('openapi connector: request serialisation (OpenAPI parameter styles)', () => {
  it('path styles simple, label and matrix; each value percent-encoded', () => {
    const op = operation('/a/{s}/b{l}/c{m}/{o}', 'get', {
      parameters: [
        param('s', 'path', ARR, { required: true }),
        param('l', 'path', ARR, { required: true, style: 'label', explode: true }),
        param('m', 'path', ARR, { required: true, style: 'matrix' }),
        param('o', 'path', OBJ, { required: true, explode: true }),
      ],
    });
    expect(buildRequest(op, { s: ['x y', 'z/1'], l: ['a', 'b'], m: ['c', 'd'], o: { r: 1, g: 2 } }).path).toBe('/a/x%20y,z%2F1/b.a.b/c;m=c,d/r=1,g=2');
  });

  it('query styles form (exploded or not), spaceDelimited, pipeDelimited, deepObject; JSON content; nulls left out', () => {
    const op = operation('/q', 'get', {
      parameters: [
        param('e', 'query', ARR),
        param('f', 'query', ARR, { explode: false }),
        param('sp', 'query', ARR, { style: 'spaceDelimited', explode: false }),
        param('pi', 'query', ARR, { style: 'pipeDelimited', explode: false }),
        param('d', 'query', OBJ, { style: 'deepObject', explode: true }),
        param('x', 'query', OBJ),
        { name: 'filter', in: 'query', content: { 'application/json': { schema: OBJ } } },
        param('n', 'query', { type: 'string', nullable: true }),
        param('b', 'query', { type: 'boolean' }),
      ],
    });
    expect(buildRequest(op, { e: ['1', '2'], f: ['1', '2'], sp: ['1', '2'], pi: ['1', '2'], d: { r: 1, g: 2 }, x: { r: 3 }, filter: { r: 4 }, n: null, b: false }).query).toEqual({
      e: ['1', '2'],
      f: '1,2',
      sp: '1 2',
      pi: '1|2',
      'd[r]': '1',
      'd[g]': '2',
      r: '3',
      filter: '{"r":4}',
      b: false,
    });
  });

  it('headers and cookies; a header value that would split the header is refused', () => {
    const op = operation('/h', 'get', {
      parameters: [param('X-Ids', 'header', ARR), param('X-One', 'header', { type: 'integer' }), param('session', 'cookie', { type: 'string' }), param('lang', 'cookie', { type: 'string' })],
      responses: { '200': { description: 'ok', content: { 'application/xml': {}, 'application/json': {} } } },
    });
    expect(buildRequest(op, { 'X-Ids': ['a', 'b'], 'X-One': 7, session: 'a b;c', lang: 'en' }).headers).toEqual({
      'X-Ids': 'a,b',
      'X-One': '7',
      Cookie: 'session=a%20b%3Bc; lang=en',
      Accept: 'application/json',
    });
    expect(() => buildRequest(op, { 'X-One': 'x\r\nEvil: 1' })).toThrow(ToolError);
  });

  it('bodies as JSON (with the document\'s media type), as a form, or as text', () => {
    const json = operation('/j', 'post', { requestBody: { content: { 'application/vnd.api+json': { schema: OBJ } } } });
    expect(buildRequest(json, { body: { r: 1 } })).toMatchObject({ method: 'POST', body: { contentType: 'application/vnd.api+json', data: '{"r":1}' } });
    expect(buildRequest(json, {}).body).toBeUndefined();
    const form = operation('/f', 'put', { requestBody: { content: { 'application/x-www-form-urlencoded': { schema: OBJ } } } });
    expect(buildRequest(form, { body: { name: 'a b', tags: ['x', 'y'], meta: { k: 1 }, skip: null } }).body).toEqual({
      contentType: 'application/x-www-form-urlencoded',
      data: 'name=a+b&tags=x&tags=y&meta=%7B%22k%22%3A1%7D',
    });
    const text = operation('/t', 'post', { requestBody: { content: { 'text/plain': { schema: { type: 'string' } } } } });
    expect(buildRequest(text, { body: 'hello' }).body).toEqual({ contentType: 'text/plain', data: 'hello' });
  });

  it('reads an answer as JSON where it says so, else as text', () => {
    expect(answerValue('{"a":1}', 'application/json; charset=utf-8')).toEqual({ a: 1 });
    expect(answerValue('{"a":1}', 'application/problem+json')).toEqual({ a: 1 });
    expect(answerValue('not json', 'application/json')).toBe('not json');
    expect(answerValue('<pet/>', 'application/xml')).toBe('<pet/>');
    expect(answerValue('  ', 'application/json')).toBeUndefined();
  });
});
