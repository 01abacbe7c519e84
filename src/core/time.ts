const formats = new Map<string, Intl.DateTimeFormat>();

/** Unix seconds as local `YYYY-MM-DDTHH:mm:ss` in an IANA zone. */
export function localDateTime(timestamp: number, timeZone: string): string {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('sv-SE', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formats.set(timeZone, f);
  }
  return f.format(new Date(timestamp * 1000)).replace(' ', 'T');
}
