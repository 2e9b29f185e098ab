/** The member list of the Label Studio–compatible API: filtered and paged in the database, then viewed like any member. */
import type { OrganizationConfig } from '../configuration/types.js';
import type { Db } from '../db/connect.js';
import type { MemberFilter, MemberSort, MemberWindow } from '../db/member-query.js';
import { queryMembers } from '../db/member-query.js';
import type { MemberView } from './members.js';
import { views } from './members.js';

export type { MemberFilter, MemberSort, MemberSortKey, MemberWindow } from '../db/member-query.js';

export interface MemberListPage {
  readonly count: number;
  readonly page: number;
  readonly lastPage: number;
  readonly results: readonly MemberView[];
}

export async function listMemberPage(db: Db, org: OrganizationConfig, filter: Omit<MemberFilter, 'organizationId'>, sorts: readonly MemberSort[], window: MemberWindow): Promise<MemberListPage> {
  const { count, page, lastPage, rows } = await queryMembers(db, { organizationId: org.id, ...filter }, sorts, window);
  return { count, page, lastPage, results: await views(db, org, rows) };
}
