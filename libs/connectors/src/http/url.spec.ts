import { describe, expect, it } from 'vitest';
import { expandPath, OffApiLinkError, parseBaseUrl, PathParameterError, requestUrl } from './url.js';

describe('request URLs', () => {
  it('keeps the base path and percent-encodes each path parameter as one segment', () => {
    const base = parseBaseUrl('https://ghe.example.com/api/v3/');
    const url = requestUrl(base, '/repos/{owner}/{repo}/issues/{n}', { owner: 'oct/cat', repo: 'a b?#', n: 7 }, { state: 'open', labels: 'bug,ui', skip: undefined, none: null, many: ['a', 'b'], flag: true });
    expect(url.toString()).toBe('https://ghe.example.com/api/v3/repos/oct%2Fcat/a%20b%3F%23/issues/7?state=open&labels=bug%2Cui&many=a&many=b&flag=true');
  });

  it('refuses path parameters that would climb out of the path', () => {
    expect(() => expandPath('/repos/{owner}/{repo}', { owner: '..', repo: 'x' })).toThrow(PathParameterError);
    expect(() => expandPath('/repos/{owner}/{repo}', { owner: 'a', repo: '.' })).toThrow(PathParameterError);
    expect(() => expandPath('/repos/{owner}/{repo}', { owner: '', repo: 'x' })).toThrow(PathParameterError);
    expect(expandPath('/repos/{owner}/{repo}', { owner: '%2e%2e', repo: '...' })).toBe('/repos/%252e%252e/...');
    expect(() => expandPath('/repos/{owner}', {})).toThrow(/owner is missing/);
  });

  it('follows absolute links only on the base URL', () => {
    const base = parseBaseUrl('https://ghe.example.com/api/v3');
    expect(requestUrl(base, 'https://ghe.example.com/api/v3/repositories/1/issues?page=2').toString()).toBe('https://ghe.example.com/api/v3/repositories/1/issues?page=2');
    expect(() => requestUrl(base, 'https://evil.example.com/api/v3/x')).toThrow(OffApiLinkError);
    expect(() => requestUrl(base, 'https://ghe.example.com/login')).toThrow(OffApiLinkError);
    expect(() => requestUrl(base, 'https://ghe.example.com/api/v30/x')).toThrow(OffApiLinkError);
    expect(() => requestUrl(base, 'http://ghe.example.com/api/v3/x')).toThrow(OffApiLinkError);
  });

  it('checks base URLs', () => {
    expect(() => parseBaseUrl('ftp://x.test')).toThrow(/http or https/);
    expect(() => parseBaseUrl('https://u:p@x.test')).toThrow(/credentials/);
    expect(() => parseBaseUrl('https://x.test/?a=1')).toThrow(/query/);
    expect(() => parseBaseUrl('nope')).toThrow(/not a valid URL/);
  });
});
