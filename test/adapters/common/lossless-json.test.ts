import { expect } from 'chai';
import { JsonSyntaxError, parseJsonLossless } from '../../../adapters/common/lossless-json.js';

describe('adapters/common/lossless-json', () => {
  const ok: { name: string; given: string; want: unknown; opts?: { allowNonFinite?: boolean } }[] = [
    { name: 'plain JSON', given: '{"a":[1,2.5,-3e2,"x\\n\\u00e9",true,null]}', want: { a: [1, 2.5, -300, 'x\né', true, null] } },
    { name: 'the largest safe integer stays a number', given: '9007199254740991', want: 9007199254740991 },
    { name: 'an integer past 2^53 becomes an exact bigint', given: '{"ns": 18446744073709551615}', want: { ns: 18446744073709551615n } },
    { name: 'a negative integer past -2^53 too', given: '-9007199254740993', want: -9007199254740993n },
    { name: 'bare NaN and Infinity when allowed', given: '[NaN, Infinity, -Infinity]', want: [Number.NaN, Infinity, -Infinity], opts: { allowNonFinite: true } },
    { name: 'a __proto__ key is data, not a prototype', given: '{"__proto__": 1}', want: JSON.parse('{"__proto__": 1}') },
    { name: 'a repeated key keeps its last value, as the servers do', given: '{"a": 1, "a": [2]}', want: { a: [2] } },
    { name: 'non-finite words inside strings stay text', given: '["NaN", "x\\"Infinity", 1e2, NaN]', want: ['NaN', 'x"Infinity', 100, Number.NaN], opts: { allowNonFinite: true } },
    { name: 'exponents and fractions stay numbers', given: '[1E2, 1.0, -0, 1e400]', want: [100, 1, -0, Infinity] },
  ];
  for (const c of ok) it(`parses ${c.name}`, () => expect(parseJsonLossless(c.given, c.opts)).to.deep.equal(c.want));

  const bad: { name: string; given: string; opts?: { allowNonFinite?: boolean } }[] = [
    { name: 'truncated JSON', given: '{"model_stats": [{"name": "a"' },
    { name: 'an HTML error page', given: '<html><body>502 Bad Gateway</body></html>' },
    { name: 'trailing text', given: '{} x' },
    { name: 'NaN unless allowed', given: '[NaN]' },
    { name: 'an unterminated string', given: '"abc' },
    { name: 'a leading zero', given: '012' },
    { name: 'empty input', given: '' },
    { name: 'a non-finite word glued to a number, even when allowed', given: '[1NaN]', opts: { allowNonFinite: true } },
    { name: 'a negative NaN, even when allowed', given: '[-NaN]', opts: { allowNonFinite: true } },
  ];
  for (const c of bad) it(`rejects ${c.name}`, () => expect(() => parseJsonLossless(c.given, c.opts)).to.throw(JsonSyntaxError));

  it('says where a body was cut: inside a string, or between values', () => {
    expect(() => parseJsonLossless('{"a": "bc')).to.throw(JsonSyntaxError, /^unterminated string.* at offset 6$/);
    expect(() => parseJsonLossless('{"a": 1,')).to.throw(JsonSyntaxError, /^unexpected end of JSON.* at offset 8$/);
  });
});
