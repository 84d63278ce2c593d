using System.Security.Claims;

namespace SegmentPortal.Core.Identity;

/// <summary>
/// A public-link visitor reads data only through the board its link opens. The board's data service enters this scope
/// after checking the link (<see cref="Dashboards.TileDataService"/>); <see cref="Access.Authorizer"/> gives a
/// visitor no dataset outside it, so previews, profiles, queries, segments, RFM and clustering refuse a visitor even
/// where the public account has a dataset grant.
/// </summary>
internal static class PublicBoardScope
{
    /// <summary>On a public visitor's principal: the link it came through.</summary>
    public const string LinkClaim = "segmentportal:public-link";

    private static readonly AsyncLocal<int?> Board = new();

    public static bool IsPublicVisitor(ClaimsPrincipal user) => user.HasClaim(c => c.Type == LinkClaim);

    /// <summary>Whether a visitor's request is being served by the board it was checked for.</summary>
    public static bool InBoard => Board.Value is not null;

    /// <summary>Marks the rest of this async flow as serving the checked board <paramref name="dashboardId"/>.</summary>
    public static Scope Enter(int dashboardId)
    {
        var previous = Board.Value;
        Board.Value = dashboardId;
        return new Scope(previous);
    }

    /// <summary>Whether <paramref name="user"/> may read datasets here: anyone but a visitor outside their board.</summary>
    public static bool MayReadDatasets(ClaimsPrincipal user) => !IsPublicVisitor(user) || InBoard;

    public readonly struct Scope(int? previous) : IDisposable
    {
        public void Dispose() => Board.Value = previous;
    }
}
