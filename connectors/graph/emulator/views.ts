/** Read-only lists: events (singles and masters), calendarView, instances, calendars, rooms. */
import type { EmRequest, EmResponse } from '../../emulator/index.ts';
import { invalid, notFound } from './errors.ts';
import { render } from './eventio.ts';
import { findEvent, seriesInstances, viewInstances } from './instances.ts';
import type { Calendar, Store, User } from './model.ts';
import { baseUrl, page, propertyFilter, renderOptions, viewWindow } from './query.ts';

const ctxUrl = (req: EmRequest, what: string) => `${baseUrl(req)}/v1.0/$metadata#${what}`;

export function listEvents(store: Store, req: EmRequest, user: User, cal: Calendar): EmResponse {
  const filter = propertyFilter(req);
  const opts = renderOptions(req);
  const items = [...store.events.inCalendar(user.id, cal.id)]
    .filter((e) => e.data.type === 'singleInstance' || e.data.type === 'seriesMaster')
    .filter((e) => !filter || e.props.get(filter.key)?.value.toLowerCase() === filter.value.toLowerCase())
    .sort((a, b) => a.createdMs - b.createdMs || a.id.localeCompare(b.id));
  const body = page(req, items, ctxUrl(req, `users('${user.id}')/events`));
  body.value = (body.value as typeof items).map((e) => render(e, opts));
  return { status: 200, body };
}

export function calendarView(store: Store, req: EmRequest, user: User, cal: Calendar): EmResponse {
  const { fromMs, toMs } = viewWindow(req);
  const filter = propertyFilter(req);
  const opts = renderOptions(req);
  const items = viewInstances(store, user.id, cal.id, fromMs, toMs).filter(
    (e) => !filter || e.props.get(filter.key)?.value.toLowerCase() === filter.value.toLowerCase(),
  );
  const body = page(req, items, ctxUrl(req, `users('${user.id}')/calendarView`));
  body.value = (body.value as typeof items).map((e) => render(e, opts));
  return { status: 200, body };
}

/** `GET .../events/{id}/instances`: occurrences and exceptions, cancelled ones left out. */
export function instances(store: Store, req: EmRequest, user: User, id: string): EmResponse {
  const { fromMs, toMs } = viewWindow(req);
  const master = findEvent(store, user.id, id) ?? notFound();
  if (master.data.type !== 'seriesMaster') invalid('The specified event is not a recurring series master.');
  const opts = renderOptions(req);
  const items = seriesInstances(store, master, fromMs, toMs);
  const body = page(req, items, ctxUrl(req, `users('${user.id}')/events('${id}')/instances`));
  body.value = (body.value as typeof items).map((e) => render(e, opts));
  return { status: 200, body };
}

export function renderCalendar(store: Store, cal: Calendar) {
  const owner = store.user(cal.userId);
  return {
    id: cal.id,
    name: cal.name,
    color: 'auto',
    hexColor: '',
    isDefaultCalendar: cal.isDefaultCalendar === true,
    changeKey: cal.changeKey ?? 'AAAAAA==',
    canShare: true,
    canViewPrivateItems: true,
    canEdit: true,
    isRemovable: cal.isDefaultCalendar !== true,
    isTallyingResponses: true,
    allowedOnlineMeetingProviders: ['teamsForBusiness'],
    defaultOnlineMeetingProvider: 'teamsForBusiness',
    owner: { name: owner?.displayName ?? owner?.mail ?? '', address: owner?.mail ?? '' },
  };
}

export function listCalendars(store: Store, req: EmRequest, user: User): EmResponse {
  store.defaultCalendar(user.id);
  const items = store.calendars.filter((c) => c.userId === user.id).map((c) => renderCalendar(store, c));
  return { status: 200, body: page(req, items, ctxUrl(req, `users('${user.id}')/calendars`)) };
}

export function listRooms(store: Store, req: EmRequest): EmResponse {
  const items = store.rooms.map((r) => ({
    id: r.id ?? r.emailAddress,
    emailAddress: r.emailAddress,
    displayName: r.displayName,
    capacity: r.capacity ?? null,
    bookingType: 'standard',
    building: null,
    floorNumber: null,
    floorLabel: null,
    label: null,
    nickname: r.displayName,
    tags: [],
    isWheelChairAccessible: false,
  }));
  const q = new URLSearchParams(req.query);
  if (!q.has('$top')) q.set('$top', '100');
  const paged = { ...req, query: q } as EmRequest;
  return { status: 200, body: page(paged, items, ctxUrl(req, 'places/microsoft.graph.room')) };
}
