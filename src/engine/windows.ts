// Window definitions. A hopping window has a size and a slide (the size a
// multiple of the slide); starts are multiples of the slide counted from the
// timeline's origin (the epoch, or midnight for times of day). A tumbling
// window is a hopping window whose slide equals its size. Grace (allowed
// lateness) belongs to the watermark, not to the window.

export interface WindowSpec {
  readonly size: number;
  readonly slide: number;
}

export function hopping(spec: { size: number; slide: number }): WindowSpec {
  const { size, slide } = spec;
  if (!(slide > 0) || !(size > 0) || size % slide !== 0) {
    throw new RangeError(`window size ${size} must be a positive multiple of the slide ${slide}`);
  }
  return { size, slide };
}

export function tumbling(size: number): WindowSpec {
  return hopping({ size, slide: size });
}

/** Start of the latest window that holds instant t. */
export function lastWindowStart(spec: WindowSpec, t: number): number {
  return Math.floor(t / spec.slide) * spec.slide;
}

/** End of the earliest window that holds instant t. */
export function firstWindowEnd(spec: WindowSpec, t: number): number {
  return lastWindowStart(spec, t) + spec.slide;
}

/** End of the latest window that holds instant t: once the watermark reaches it, t is late. */
export function lastWindowEnd(spec: WindowSpec, t: number): number {
  return lastWindowStart(spec, t) + spec.size;
}

/** The first window end strictly after the watermark: the next window to close. */
export function nextWindowEndAfter(spec: WindowSpec, watermark: number): number {
  return Math.floor(watermark / spec.slide) * spec.slide + spec.slide;
}
