using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Audit;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Users;

public enum AccessTokenStatus
{
    Active,
    Expired,
    Revoked,
}

/// <summary>A token as its owner (or an Admin) sees it: never the token itself.</summary>
public sealed record AccessTokenRow(
    int Id,
    string UserId,
    string UserEmail,
    string Name,
    IReadOnlyList<string> Scopes,
    string Prefix,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? LastUsedAt,
    DateTimeOffset? RevokedAt,
    string? RevokedBy,
    AccessTokenStatus Status);

public sealed record NewAccessToken(string Name, IReadOnlyCollection<string> Scopes, DateTimeOffset ExpiresAt);

/// <summary>A token just made: <see cref="Token"/> is shown once and never stored.</summary>
public sealed record CreatedAccessToken(AccessTokenRow Row, string Token);

/// <summary>
/// Personal access tokens for the REST API: a signed-in user makes, lists and revokes their own; Admins
/// (<see cref="Permissions.ManageUsers"/>) list and revoke everyone's. Making and revoking a token is audited.
/// </summary>
public sealed class AccessTokenService(ICurrentUser currentUser, IPortalDbFactory dbFactory, TimeProvider clock, AuditLog audit)
{
    /// <summary>The longest a token may live.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(366);

    public async Task<CreatedAccessToken> CreateAsync(NewAccessToken request, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireWriterAsync();
        if (ApiScopes.IsToken(user))
        {
            throw new PermissionDeniedException("A token cannot make tokens. Sign in to the portal to make one.");
        }
        if (PublicBoardScope.IsPublicVisitor(user))
        {
            throw new PermissionDeniedException("Visitors of a public link cannot make tokens.");
        }
        var name = (request.Name ?? "").Trim();
        if (name.Length == 0)
        {
            throw new PortalException("Give the token a name, so you can tell it apart later.");
        }
        if (name.Length > PersonalAccessToken.MaxNameLength)
        {
            throw new PortalException($"A token's name may be at most {PersonalAccessToken.MaxNameLength} characters.");
        }
        var scopes = ApiScopes.All.Where(s => request.Scopes.Contains(s, StringComparer.Ordinal)).ToList();
        if (request.Scopes.Any(s => !ApiScopes.All.Contains(s, StringComparer.Ordinal)))
        {
            throw new PortalException($"Unknown scope. The scopes are: {string.Join(", ", ApiScopes.All)}.");
        }
        if (scopes.Count == 0)
        {
            throw new PortalException("Choose at least one scope.");
        }
        var now = clock.GetUtcNow();
        if (request.ExpiresAt <= now)
        {
            throw new PortalException("The expiry date must be in the future.");
        }
        if (request.ExpiresAt > now + MaxLifetime)
        {
            throw new PortalException("A token may live at most a year.");
        }

        var token = "sp_" + Base64Url(RandomNumberGenerator.GetBytes(32));
        var entity = new PersonalAccessToken
        {
            UserId = user.UserId()!,
            Name = name,
            Scopes = string.Join(' ', scopes),
            Prefix = token[..PersonalAccessToken.PrefixLength],
            Hash = HashOf(token),
            CreatedAt = now,
            ExpiresAt = request.ExpiresAt,
        };
        await using (var db = await dbFactory.CreateAsync(cancellationToken))
        {
            db.AccessTokens.Add(entity);
            await db.SaveChangesAsync(cancellationToken);
        }
        await audit.RecordAsync(AuditActions.AccessTokenChanged, Subject(entity),
            $"Created with scopes {string.Join(", ", scopes)}, expires {request.ExpiresAt:yyyy-MM-dd HH:mm} UTC", cancellationToken: cancellationToken);
        return new CreatedAccessToken(RowOf(entity, user.Identity?.Name ?? "", now), token);
    }

    /// <summary>The signed-in user's tokens, newest first.</summary>
    public async Task<IReadOnlyList<AccessTokenRow>> ListMineAsync(CancellationToken cancellationToken = default)
    {
        var user = await currentUser.GetPrincipalAsync();
        if (user.Identity?.IsAuthenticated != true || user.UserId() is not { } userId)
        {
            throw new PermissionDeniedException("Sign in to see your tokens.");
        }
        return await ListAsync(t => t.UserId == userId, cancellationToken);
    }

    /// <summary>Every user's tokens, newest first. Admins only.</summary>
    public async Task<IReadOnlyList<AccessTokenRow>> ListAllAsync(CancellationToken cancellationToken = default)
    {
        await currentUser.RequireAsync(Permissions.ManageUsers);
        return await ListAsync(_ => true, cancellationToken);
    }

    /// <summary>Revokes one of the user's own tokens, or any token for an Admin. Revoking a revoked token does nothing.</summary>
    public async Task RevokeAsync(int tokenId, CancellationToken cancellationToken = default)
    {
        var user = await currentUser.RequireWriterAsync();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var token = await db.AccessTokens.SingleOrDefaultAsync(t => t.Id == tokenId, cancellationToken);
        var mayRevoke = token is not null && (token.UserId == user.UserId() || (!ApiScopes.IsToken(user) && Permissions.IsGranted(user, Permissions.ManageUsers)));
        if (!mayRevoke)
        {
            throw new PermissionDeniedException("That token does not exist or is not yours.");
        }
        if (token!.RevokedAt is not null)
        {
            return;
        }
        token.RevokedAt = clock.GetUtcNow();
        token.RevokedBy = user.Identity?.Name;
        await db.SaveChangesAsync(cancellationToken);
        var owner = token.UserId == user.UserId() ? "" : $" of {await db.Users.Where(u => u.Id == token.UserId).Select(u => u.Email).SingleOrDefaultAsync(cancellationToken)}";
        await audit.RecordAsync(AuditActions.AccessTokenChanged, Subject(token) + owner, "Revoked", cancellationToken: cancellationToken);
    }

    internal static string Subject(PersonalAccessToken token) => $"Access token {token.Id} “{token.Name}” ({token.Prefix}…)";

    /// <summary>The stored form of a token: its SHA-256 hash in lower-case hex.</summary>
    public static string HashOf(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private async Task<IReadOnlyList<AccessTokenRow>> ListAsync(System.Linq.Expressions.Expression<Func<PersonalAccessToken, bool>> filter, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var rows = await (from t in db.AccessTokens.AsNoTracking().Where(filter)
                          join u in db.Users.AsNoTracking() on t.UserId equals u.Id
                          select new { Token = t, u.Email }).ToListAsync(cancellationToken);
        var now = clock.GetUtcNow();
        return rows.OrderByDescending(r => r.Token.CreatedAt).ThenByDescending(r => r.Token.Id)
            .Select(r => RowOf(r.Token, r.Email ?? "", now)).ToList();
    }

    private static AccessTokenRow RowOf(PersonalAccessToken t, string email, DateTimeOffset now) => new(
        t.Id, t.UserId, email, t.Name, t.ScopeList, t.Prefix, t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt, t.RevokedBy,
        t.RevokedAt is not null ? AccessTokenStatus.Revoked : t.ExpiresAt <= now ? AccessTokenStatus.Expired : AccessTokenStatus.Active);
}

/// <summary>Why a token was refused, in words for the API's 401 answer.</summary>
public sealed record AccessTokenCheck(ClaimsPrincipal? Principal, string? Refusal, int? TokenId = null);

/// <summary>
/// Checks the token of one API request, every request: it exists (by hash), is neither revoked nor expired, and its user is
/// enabled and not locked out; then the principal the request acts as — the user's id, e-mail and roles as stored now
/// (row and column rules read the user's attributes by id, as for a session), the token's scopes
/// (<see cref="ApiScopes.ClaimType"/>) and its id (<see cref="ApiScopes.TokenClaimType"/>). Records when a token was
/// last used (at most once a minute) and audits its use at most once per token per clock hour.
/// </summary>
public sealed class AccessTokenValidator(IPortalDbFactory dbFactory, TimeProvider clock, AuditLog audit)
{
    public const string AuthenticationType = "PersonalAccessToken";

    private static readonly TimeSpan LastUsedGranularity = TimeSpan.FromMinutes(1);

    public async Task<AccessTokenCheck> ValidateAsync(string token, string? address, CancellationToken cancellationToken = default)
    {
        const string unknown = "The access token is not valid.";
        if (!token.StartsWith("sp_", StringComparison.Ordinal) || token.Length > 100)
        {
            return new(null, unknown);
        }
        var hash = AccessTokenService.HashOf(token);
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        var found = await db.AccessTokens.AsNoTracking().SingleOrDefaultAsync(t => t.Hash == hash, cancellationToken);
        if (found is null)
        {
            return new(null, unknown);
        }
        var now = clock.GetUtcNow();
        if (found.RevokedAt is not null)
        {
            return new(null, "The access token has been revoked.", found.Id);
        }
        if (found.ExpiresAt <= now)
        {
            return new(null, "The access token has expired.", found.Id);
        }
        var user = await db.Users.AsNoTracking().Where(u => u.Id == found.UserId)
            .Select(u => new { u.Id, u.Email, u.IsDisabled, u.LockoutEnd }).SingleOrDefaultAsync(cancellationToken);
        if (user is null || user.IsDisabled || (user.LockoutEnd is { } end && end > now))
        {
            return new(null, "The access token's user is disabled or locked out.", found.Id);
        }
        var roles = await db.RolesOfAsync(user.Id, cancellationToken);
        var email = user.Email ?? user.Id;
        var principal = new ClaimsPrincipal(new ClaimsIdentity(
            [
                new Claim(ClaimTypes.NameIdentifier, user.Id),
                new Claim(ClaimTypes.Name, email),
                new Claim(ClaimTypes.Email, email),
                .. roles.Select(r => new Claim(ClaimTypes.Role, r)),
                .. found.ScopeList.Select(s => new Claim(ApiScopes.ClaimType, s)),
                new Claim(ApiScopes.TokenClaimType, found.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            ], AuthenticationType));
        await NoteUseAsync(db, found, email, now, address, cancellationToken);
        return new(principal, null, found.Id);
    }

    private async Task NoteUseAsync(IPortalDb db, PersonalAccessToken token, string email, DateTimeOffset now, string? address, CancellationToken cancellationToken)
    {
        var previous = token.LastUsedAt;
        var newHour = previous is null || HourOf(previous.Value) != HourOf(now);
        if (!newHour && now - previous!.Value < LastUsedGranularity)
        {
            return;
        }
        // Only the request that moves the stamp records the use, so concurrent requests audit once.
        var moved = await db.AccessTokens.Where(t => t.Id == token.Id && t.LastUsedAt == previous)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.LastUsedAt, now), cancellationToken);
        if (moved == 1 && newHour)
        {
            await audit.RecordForAsync(token.UserId, email, AuditActions.AccessTokenUsed, AccessTokenService.Subject(token),
                "First use in this hour", address: address, cancellationToken: cancellationToken);
        }
    }

    private static DateTimeOffset HourOf(DateTimeOffset at) => new(at.UtcDateTime.Year, at.UtcDateTime.Month, at.UtcDateTime.Day, at.UtcDateTime.Hour, 0, 0, TimeSpan.Zero);
}
