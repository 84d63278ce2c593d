using System.Security.Claims;

namespace SegmentPortal.Core.Identity;

/// <summary>
/// What a personal access token may do on the REST API (<c>/api/v1</c>). A token's principal carries one
/// <see cref="ClaimType"/> claim per scope it was given; a signed-in browser session carries none and may use every
/// scope. Either way the user's own grants, row rules and column rules apply, because the endpoints call Core's services.
/// </summary>
public static class ApiScopes
{
    /// <summary>The claim type of a token's scopes.</summary>
    public const string ClaimType = "segmentportal:scope";

    /// <summary>The claim type naming the token a request was made with (its id).</summary>
    public const string TokenClaimType = "segmentportal:token";

    public const string ReadData = "data:read";
    public const string ReadSegments = "segments:read";
    public const string ManageSegments = "segments:write";
    public const string ReadDashboards = "dashboards:read";
    public const string UploadData = "data:upload";

    public static IReadOnlyList<string> All { get; } = [ReadData, ReadSegments, ManageSegments, ReadDashboards, UploadData];

    /// <summary>What each scope allows, in words, for the token form and the API documentation.</summary>
    public static IReadOnlyDictionary<string, string> Descriptions { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [ReadData] = "Read data: list datasets, read their schemas and query them",
        [ReadSegments] = "Read segments: list them, count them, read their members and changes",
        [ManageSegments] = "Manage segments: create, change and refresh segments",
        [ReadDashboards] = "Read dashboards: list boards and read a tile's data",
        [UploadData] = "Upload data: push files or rows as a new dataset or a new version of one",
    };

    /// <summary>The authorization policy name of a scope.</summary>
    public static string Policy(string scope) => "api:" + scope;

    /// <summary>True when the request was made with a personal access token rather than a browser session.</summary>
    public static bool IsToken(ClaimsPrincipal principal) => principal.HasClaim(c => c.Type == TokenClaimType);

    /// <summary>A browser session may use every scope; a token only those it was given.</summary>
    public static bool Allows(ClaimsPrincipal principal, string scope) =>
        principal.Identity?.IsAuthenticated == true && (!IsToken(principal) || principal.HasClaim(ClaimType, scope));
}
