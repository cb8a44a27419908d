// Growing the typed arrays that readers and writers keep their tables in.

/** A copy of `array` at least `length` long (at least double its length), the new elements set to `fill`. */
export function grownArray<T extends Int32Array | Uint8Array>(array: T, length: number, fill = 0): T {
  const grown = new (array.constructor as new (n: number) => T)(Math.max(array.length * 2, length));
  if (fill !== 0) grown.fill(fill, array.length);
  grown.set(array);
  return grown;
}
