import t from 'tap';
import { chooseDevice } from '../src/device.js';
import { Tensor } from '../src/tensor.js';

t.test('round trip, copies and shapes', async (t) => {
  const data = Float32Array.from([1, 2, 3, 4, 5, 6]);
  const a = Tensor.from('cpu', 'f32', [2, 3], data);
  t.same([...a.read()], [...data]);
  t.same(a.shape, [2, 3]);
  const b = a.to('cpu');
  a.write(new Float32Array(6));
  t.same([...b.read()], [...data], 'to() copies');
  const z = Tensor.zeros('cpu', 'u8', [5]);
  t.same([...z.read()], [0, 0, 0, 0, 0]);
  t.equal(Tensor.empty('cpu', 'i32', [0, 4]).size, 0, 'empty tensors are fine');
});

t.test('bad input is refused with clear errors', async (t) => {
  t.throws(() => Tensor.from('cpu', 'f32', [2, 2], new Float32Array(3)), /needs 4 values, got 3/);
  const a = Tensor.zeros('cpu', 'f32', [4]);
  t.throws(() => a.write(new Float32Array(5)), /upload of 20 bytes into cpu f32\[4\]/);
  t.throws(() => a.copyFrom(Tensor.zeros('cpu', 'f32', [3])), /copy from cpu f32\[3\] into cpu f32\[4\]/);
  t.throws(() => Tensor.empty('cpu', 'f32', [2 ** 20, 2 ** 20, 2 ** 20]), /too large/);
  t.throws(() => Tensor.empty('cpu', 'f32', [2 ** 38]), /out of host memory: cannot allocate 1099511627776 bytes/);
  a.dispose();
  a.dispose();
  t.ok(a.disposed, 'dispose is idempotent');
  t.throws(() => a.read(), /disposed/);
});

t.test('cuda tensors need a usable GPU', async (t) => {
  const choice = chooseDevice('auto');
  if (choice.device === 'cuda') {
    t.ok(choice.cuda.name, 'GPU named');
    return;
  }
  t.match(choice.reason, /running on the CPU: .+/);
  t.throws(() => chooseDevice('cuda'), /CUDA is not usable/);
  t.throws(() => Tensor.empty('cuda', 'f32', [4]));
});
