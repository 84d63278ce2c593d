namespace SegmentPortal.Core.Users;

/// <summary>
/// A personal access token for the REST API. Only the SHA-256 hash of the token is stored; the token itself is shown
/// once, when it is made. A token acts as its user (their roles, grants, row and column rules) within its scopes.
/// </summary>
public class PersonalAccessToken
{
    public const int MaxNameLength = 100;
    public const int PrefixLength = 10;

    public int Id { get; set; }

    public required string UserId { get; set; }

    public required string Name { get; set; }

    /// <summary>The scopes (<see cref="Identity.ApiScopes"/>), separated by spaces.</summary>
    public required string Scopes { get; set; }

    /// <summary>The token's first characters ("sp_AbC1234"), so people can tell their tokens apart.</summary>
    public required string Prefix { get; set; }

    /// <summary>The SHA-256 hash of the token, lower-case hex.</summary>
    public required string Hash { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? LastUsedAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>The e-mail of who revoked it (the owner or an Admin).</summary>
    public string? RevokedBy { get; set; }

    public IReadOnlyList<string> ScopeList => Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
