using System.Security.Claims;

namespace SegmentPortal.Core.Identity;

/// <summary>
/// The user a scope acts for when there is no interactive session: set by the job runner for a background job and
/// by the web host for a plain HTTP endpoint. <see cref="ICurrentUser"/> implementations look here first.
/// </summary>
public sealed class ScopedPrincipal
{
    public ClaimsPrincipal? Principal { get; set; }
}
