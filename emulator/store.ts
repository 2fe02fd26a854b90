/** The emulator's in-memory Logto tenant. Shapes follow what a real Logto 1.42 returns. */

export interface EmulatedUser {
  id: string;
  username: string | null;
  primaryEmail: string | null;
  primaryPhone: string | null;
  name: string | null;
  avatar: string | null;
  customData: Record<string, unknown>;
  identities: Record<string, { userId: string; details?: Record<string, unknown> }>;
  lastSignInAt: number | null;
  createdAt: number;
  updatedAt: number;
  profile: Record<string, unknown>;
  applicationId: string | null;
  cimdClientId: string | null;
  isSuspended: boolean;
  hasPassword: boolean;
}

export interface EmulatedRole {
  tenantId: string;
  id: string;
  name: string;
  description: string;
  type: 'User' | 'MachineToMachine';
  isDefault: boolean;
}

export interface EmulatedOrganization {
  tenantId: string;
  id: string;
  name: string;
  description: string | null;
  customData: Record<string, unknown>;
  isMfaRequired: boolean;
  color: Record<string, unknown>;
  branding: Record<string, unknown>;
  customCss: string | null;
  createdAt: number;
}

export interface EmulatedOrganizationRole {
  tenantId: string;
  id: string;
  name: string;
  description: string | null;
  type: 'User' | 'MachineToMachine';
}

export interface EmulatedApp {
  id: string;
  secret: string;
  /** Whether the app holds a Management API role granting `all`; without it Logto still issues a token. */
  hasAllScope: boolean;
  /** A web or SPA app (authorization code + PKCE): the redirect URIs it may use; absent for an M2M app. */
  redirectUris?: string[];
}

export interface TenantStore {
  users: Map<string, EmulatedUser>;
  roles: Map<string, EmulatedRole>;
  /** userId → role IDs */
  userRoles: Map<string, Set<string>>;
  organizations: Map<string, EmulatedOrganization>;
  /** organizationId → member user IDs */
  members: Map<string, Set<string>>;
  organizationRoles: Map<string, EmulatedOrganizationRole>;
  /** `${organizationId}:${userId}` → organization role IDs */
  memberRoles: Map<string, Set<string>>;
  /** organizationId → JIT email domains */
  jitEmailDomains: Map<string, Set<string>>;
  apps: Map<string, EmulatedApp>;
  /** The audit log (`GET /api/logs`), oldest first: interaction entries of sign-ups. */
  logs: AuditLogEntry[];
}

/** An audit log entry as a real Logto 1.42 returns it for a sign-up (logto-reference §0.1). */
export interface AuditLogEntry {
  id: string;
  key: string;
  payload: {
    key: string;
    result: 'Success' | 'Error';
    userId?: string;
    applicationId?: string;
    interaction?: { interactionEvent: string };
  };
  createdAt: number;
}

export function createStore(): TenantStore {
  return {
    users: new Map(),
    roles: new Map(),
    userRoles: new Map(),
    organizations: new Map(),
    members: new Map(),
    organizationRoles: new Map(),
    memberRoles: new Map(),
    jitEmailDomains: new Map(),
    logs: [],
    apps: new Map(),
  };
}
