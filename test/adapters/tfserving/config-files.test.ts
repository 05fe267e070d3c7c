// The batching parameters file (C.4) and the model config file (C.5): read, and rewritten in place.
import { expect } from 'chai';
import {
  BatchingConflictError, readBatchingParameters, readModelConfigNames, rewriteBatchingParameters,
} from '../../../adapters/tfserving/config-files.js';
import { TextProtoError } from '../../../adapters/tfserving/text-proto.js';

// The example of C.4, byte for byte.
const C4 = `max_batch_size { value: 128 }
batch_timeout_micros { value: 0 }
max_enqueued_batches { value: 1000000 }
num_batch_threads { value: 8 }
`;

describe('adapters/tfserving/config-files', () => {
  describe('batching parameters', () => {
    it('reads the C.4 example', () => {
      expect(readBatchingParameters(C4)).to.deep.equal({ maxBatchSize: 128, batchTimeoutMicros: 0, allowedBatchSizes: [] });
    });

    it('leaves absent keys to the server default, reads `{}` as 0 and lists allowed_batch_sizes', () => {
      expect(readBatchingParameters('num_batch_threads { value: 4 }\nbatch_timeout_micros {}\nallowed_batch_sizes: [8, 16]\nallowed_batch_sizes: 32\n'))
        .to.deep.equal({ batchTimeoutMicros: 0, allowedBatchSizes: [8, 16, 32] });
    });

    it('round trip: changes the two keys and keeps every other byte, comments included', () => {
      const given = `# tuned by hand\n${C4}thread_pool_name { value: "pool" }  # keep me\n`;
      const out = rewriteBatchingParameters(given, { maxBatchSize: 32, batchTimeoutMicros: 2500 });
      expect(out).to.equal(given.replace('max_batch_size { value: 128 }', 'max_batch_size { value: 32 }').replace('batch_timeout_micros { value: 0 }', 'batch_timeout_micros { value: 2500 }'));
      expect(readBatchingParameters(out)).to.deep.equal({ maxBatchSize: 32, batchTimeoutMicros: 2500, allowedBatchSizes: [] });
      expect(rewriteBatchingParameters(out, { maxBatchSize: 128, batchTimeoutMicros: 0 })).to.equal(given);
    });

    it('rewrites other spellings of the same field: colon, angle brackets, one line', () => {
      const out = rewriteBatchingParameters('max_batch_size: < value: 4 > num_batch_threads { value: 2 } batch_timeout_micros {value:1}', { maxBatchSize: 8, batchTimeoutMicros: 0 });
      expect(out).to.equal('max_batch_size { value: 8 } num_batch_threads { value: 2 } batch_timeout_micros { value: 0 }');
    });

    it('appends keys the file leaves out', () => {
      expect(rewriteBatchingParameters('num_batch_threads { value: 8 }', { maxBatchSize: 16, batchTimeoutMicros: 1000 }))
        .to.equal('num_batch_threads { value: 8 }\nmax_batch_size { value: 16 }\nbatch_timeout_micros { value: 1000 }\n');
      expect(rewriteBatchingParameters('', { maxBatchSize: 1, batchTimeoutMicros: 0 })).to.equal('max_batch_size { value: 1 }\nbatch_timeout_micros { value: 0 }\n');
    });

    it('refuses a max_batch_size that allowed_batch_sizes would contradict at startup', () => {
      const given = 'max_batch_size { value: 32 }\nallowed_batch_sizes: 8\nallowed_batch_sizes: 32\n';
      expect(() => rewriteBatchingParameters(given, { maxBatchSize: 64, batchTimeoutMicros: 0 })).to.throw(BatchingConflictError, /allowed_batch_sizes ends at 32/);
      expect(rewriteBatchingParameters(given, { maxBatchSize: 32, batchTimeoutMicros: 5 })).to.contain('batch_timeout_micros { value: 5 }');
    });

    const malformed: { name: string; given: string }[] = [
      { name: 'a key given twice', given: `${C4}max_batch_size { value: 1 }\n` },
      { name: 'a bare scalar where the wrapper goes', given: 'max_batch_size: 8\n' },
      { name: 'a negative value', given: 'max_batch_size { value: -8 }\n' },
      { name: 'a fractional value', given: 'max_batch_size { value: 8.5 }\n' },
      { name: 'a value beyond 2^53', given: 'max_batch_size { value: 9007199254740993 }\n' },
      { name: 'an unclosed brace', given: 'max_batch_size { value: 8\n' },
      { name: 'an unterminated string', given: 'thread_pool_name { value: "pool }\n' },
      { name: 'JSON instead of text proto', given: '{"max_batch_size": 8}' },
    ];
    for (const c of malformed) {
      it(`refuses ${c.name}, before any rewrite`, () => {
        expect(() => readBatchingParameters(c.given)).to.throw(TextProtoError);
        expect(() => rewriteBatchingParameters(c.given, { maxBatchSize: 2, batchTimeoutMicros: 0 })).to.throw(TextProtoError);
      });
    }
  });

  describe('model config file', () => {
    it('reads the names of the C.5 example', () => {
      const c5 = "model_config_list {\n  config {\n    name: 'my_first_model'\n    base_path: '/tmp/my_first_model/'\n    model_platform: 'tensorflow'\n  }\n}\n";
      expect(readModelConfigNames(c5)).to.deep.equal(['my_first_model']);
    });

    it('reads several configs, with version policies and labels in between', () => {
      const text = `model_config_list {
  config { name: "a" base_path: "/m/a" model_platform: "tensorflow" model_version_policy { specific { versions: 1 versions: 2 } } }
  config { name: "b" base_path: "/m/b" version_labels { key: "stable" value: 2 } }
}`;
      expect(readModelConfigNames(text)).to.deep.equal(['a', 'b']);
    });

    it('refuses custom_model_config, an unnamed config and broken text', () => {
      expect(() => readModelConfigNames('custom_model_config { }')).to.throw(TextProtoError, /model_config_list/);
      expect(() => readModelConfigNames('model_config_list { config { base_path: "/x" } }')).to.throw(TextProtoError, /name/);
      expect(() => readModelConfigNames('model_config_list { config { name: "a" }')).to.throw(TextProtoError);
    });
  });
});
