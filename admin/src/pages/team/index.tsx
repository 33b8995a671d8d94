import { useEffect, useState } from 'preact/hooks';
import { problem } from '../../data/client.ts';
import { session } from '../../data/session.ts';
import {
  changeRole,
  type Invitation,
  loadTeamState,
  removeMember,
  type SentInvitation,
  sendInvitation,
  type TeamMember,
  type TeamRole,
  type TeamState,
  withdrawInvitation,
} from '../../data/team.ts';
import { currentMembership } from '../../data/tenants.ts';
import { formatTime, t } from '../../i18n/index.ts';
import type { PageProps } from '../types.ts';
import { m } from './messages.ts';

// The team page: members with their roles, invitations by email with the link shown, role changes
// and removals. The database decides every one of them (RLS on tenant_members, invite_member's
// role and seat rules, the last-owner trigger); the page offers only what the role may do and
// shows the database's refusal in words when it says no.

const ROLES: TeamRole[] = ['owner', 'admin', 'agent'];

export default function TeamPage({ tenantId }: PageProps) {
  const role = currentMembership.value?.role;
  const isOwner = role === 'owner';
  const manager = isOwner || role === 'admin';
  const me = session.value?.user.id;
  const [state, setState] = useState<TeamState | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [status, setStatus] = useState<{ text: string; error?: boolean } | null>(null);
  const [sent, setSent] = useState<SentInvitation | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [version, setVersion] = useState(0);

  useEffect(() => {
    let live = true;
    loadTeamState(tenantId, manager || role === 'platform')
      .then((next) => {
        if (!live) return;
        setState(next);
        setLoadError(null);
      })
      .catch((e) => live && setLoadError(problem(e)));
    return () => {
      live = false;
    };
  }, [tenantId, version]);

  const reload = () => setVersion((v) => v + 1);
  const act = async (work: () => Promise<unknown>, done: string) => {
    setStatus(null);
    try {
      await work();
      setStatus({ text: done });
      reload();
    } catch (e) {
      const reason =
        e instanceof Error && e.message === 'not-allowed' ? m('notAllowed') : problem(e);
      setStatus({ text: m('failed', { reason }), error: true });
      // A refused change leaves the controls showing what the database still has.
      reload();
    }
  };

  /** Whom the caller may change: owners everyone, admins agents (RLS says the same). */
  const canManage = (member: TeamMember) =>
    isOwner || (role === 'admin' && member.role === 'agent');
  const roleName = (r: TeamRole) => m(r);

  if (loadError) {
    return (
      <section class="team" aria-labelledby="team-title">
        <h1 id="team-title">{m('title')}</h1>
        <p class="error" role="alert">
          {m('loadFailed', { reason: loadError })}
        </p>
      </section>
    );
  }
  if (!state) {
    return (
      <p class="empty" aria-busy="true">
        {m('title')}…
      </p>
    );
  }

  const used = state.members.length + state.invitations.length;
  const full = state.seats !== null && used >= state.seats;

  return (
    <section class="team" aria-labelledby="team-title" data-admin="team">
      <h1 id="team-title">{m('title')}</h1>
      <p class="muted" data-admin="seats">
        {state.seats === null
          ? m('seatsUnlimited', { used })
          : m('seats', { used, total: state.seats })}
      </p>
      {!manager && <p class="muted">{m('readOnly')}</p>}
      <p role="status" class={status?.error ? 'error' : 'muted'} data-admin="team-status">
        {status?.text ?? ''}
      </p>

      <h2>{m('members')}</h2>
      <div class="table-wrap">
        <table class="team-table">
          <thead>
            <tr>
              <th scope="col">{m('email')}</th>
              <th scope="col">{m('name')}</th>
              <th scope="col">{m('role')}</th>
              <th scope="col">{m('joined')}</th>
              {manager && <th scope="col">{t('actions')}</th>}
            </tr>
          </thead>
          <tbody>
            {state.members.map((member) => (
              <tr key={member.user_id} data-member={member.email}>
                <td>
                  {member.email} {member.user_id === me && <span class="muted">{m('you')}</span>}
                </td>
                <td data-label={m('name')}>{member.display_name ?? ''}</td>
                <td data-label={m('role')}>
                  {canManage(member) ? (
                    <select
                      aria-label={m('roleOf', { email: member.email })}
                      value={member.role}
                      data-admin="member-role"
                      onChange={(e) => {
                        const next = (e.currentTarget as HTMLSelectElement).value as TeamRole;
                        void act(
                          () => changeRole(tenantId, member.user_id, next),
                          m('changed', { email: member.email, role: roleName(next) }),
                        );
                      }}
                    >
                      {(isOwner ? ROLES : (['agent'] as TeamRole[])).map((r) => (
                        <option key={r} value={r}>
                          {roleName(r)}
                        </option>
                      ))}
                    </select>
                  ) : (
                    <span class="tag">{roleName(member.role)}</span>
                  )}
                </td>
                <td data-label={m('joined')}>{formatTime(member.created_at)}</td>
                {manager && (
                  <td>
                    {canManage(member) &&
                      (confirming === member.user_id ? (
                        <span class="confirm-inline">
                          <span>{m('confirmRemove', { email: member.email })}</span>{' '}
                          <button
                            type="button"
                            class="danger"
                            data-admin="confirm-remove"
                            onClick={() => {
                              setConfirming(null);
                              void act(
                                () => removeMember(tenantId, member.user_id),
                                m('removed', { email: member.email }),
                              );
                            }}
                          >
                            {m('yes')}
                          </button>{' '}
                          <button type="button" onClick={() => setConfirming(null)}>
                            {t('cancel')}
                          </button>
                        </span>
                      ) : (
                        <button
                          type="button"
                          data-admin="remove-member"
                          onClick={() => setConfirming(member.user_id)}
                        >
                          {m('remove')}
                          <span class="visually-hidden"> {member.email}</span>
                        </button>
                      ))}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>

      {manager && (
        <InviteForm
          tenantId={tenantId}
          roles={isOwner ? ROLES : ['agent']}
          full={full}
          onSent={(result) => {
            setSent(result);
            setStatus(null);
            reload();
          }}
        />
      )}
      {sent && (
        <div class="invite-link" data-admin="invite-link">
          <label for="invite-link-value">{m('linkFor', { email: sent.invitation.email })}</label>
          <div class="invite-link-row">
            <input id="invite-link-value" readOnly value={sent.link} dir="ltr" />
            <CopyButton text={sent.link} />
          </div>
          <p class="muted">{m('linkHelp')}</p>
        </div>
      )}

      {manager && (
        <Pending
          invitations={state.invitations}
          canWithdraw={(i) => isOwner || i.role === 'agent'}
          onWithdraw={(i) =>
            void act(() => withdrawInvitation(i.id), m('withdrawn', { email: i.email }))
          }
        />
      )}
    </section>
  );
}

function InviteForm(props: {
  tenantId: string;
  roles: TeamRole[];
  full: boolean;
  onSent: (sent: SentInvitation) => void;
}) {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<TeamRole>('agent');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  return (
    <form
      class="invite-form"
      aria-labelledby="invite-title"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
          props.onSent(await sendInvitation(props.tenantId, email.trim(), role));
          setEmail('');
        } catch (err) {
          setError(problem(err));
        } finally {
          setBusy(false);
        }
      }}
    >
      <h2 id="invite-title">{m('invite')}</h2>
      <p class="muted">{props.full ? m('seatsFull') : m('inviteHint')}</p>
      <div class="invite-fields">
        <label>
          {m('email')}
          <input
            type="email"
            name="invite-email"
            required
            autoComplete="off"
            value={email}
            onInput={(e) => setEmail((e.currentTarget as HTMLInputElement).value)}
          />
        </label>
        <label>
          {m('role')}
          <select
            name="invite-role"
            value={role}
            onChange={(e) => setRole((e.currentTarget as HTMLSelectElement).value as TeamRole)}
          >
            {props.roles.map((r) => (
              <option key={r} value={r}>
                {m(r)}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class="primary" disabled={busy} data-admin="send-invite">
          {busy ? m('sending') : m('send')}
        </button>
      </div>
      {error && (
        <p class="error" role="alert" data-admin="invite-error">
          {error}
        </p>
      )}
    </form>
  );
}

function CopyButton({ text }: { text: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      onClick={() =>
        void navigator.clipboard
          ?.writeText(text)
          .then(() => setCopied(true))
          .catch(() => setCopied(false))
      }
    >
      {copied ? t('copied') : m('copy')}
    </button>
  );
}

function Pending(props: {
  invitations: Invitation[];
  canWithdraw: (i: Invitation) => boolean;
  onWithdraw: (i: Invitation) => void;
}) {
  return (
    <>
      <h2>{m('pending')}</h2>
      {props.invitations.length === 0 ? (
        <p class="muted">{m('noPending')}</p>
      ) : (
        <div class="table-wrap">
          <table class="team-table">
            <thead>
              <tr>
                <th scope="col">{m('email')}</th>
                <th scope="col">{m('role')}</th>
                <th scope="col">{m('expires')}</th>
                <th scope="col">{t('actions')}</th>
              </tr>
            </thead>
            <tbody>
              {props.invitations.map((i) => (
                <tr key={i.id} data-invitation={i.email}>
                  <td>{i.email}</td>
                  <td data-label={m('role')}>{m(i.role)}</td>
                  <td data-label={m('expires')}>{formatTime(i.expires_at)}</td>
                  <td>
                    {props.canWithdraw(i) && (
                      <button type="button" onClick={() => props.onWithdraw(i)}>
                        {m('withdraw')}
                        <span class="visually-hidden"> {i.email}</span>
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
