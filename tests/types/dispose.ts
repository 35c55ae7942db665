// Where the libs know Symbol.dispose (esnext here; @types/node and Deno
// too), the accumulator is Disposable: `using` frees it.
import { UsageAccumulator } from 'weave-usage';

{
  using acc = new UsageAccumulator();
  acc.push('');
}
const disposable: Disposable = new UsageAccumulator();
void disposable;
