using System.Security.Claims;
using SegmentPortal.Core.Identity;

namespace SegmentPortal.Tests.Identity;

public sealed class PermissionsTests
{
    private static ClaimsPrincipal User(params string[] roles) =>
        new(new ClaimsIdentity(roles.Select(r => new Claim(ClaimTypes.Role, r)), "Test"));

    [Theory]
    [InlineData(Roles.Admin, true, true, true, true)]
    [InlineData(Roles.Analyst, false, false, true, true)]
    [InlineData(Roles.Viewer, false, false, false, true)]
    public void Roles_grant_permissions(string role, bool manageUsers, bool manageConnections, bool manageData, bool viewData)
    {
        Assert.Equal(manageUsers, Permissions.IsGranted(User(role), Permissions.ManageUsers));
        Assert.Equal(manageConnections, Permissions.IsGranted(User(role), Permissions.ManageConnections));
        Assert.Equal(manageData, Permissions.IsGranted(User(role), Permissions.ManageData));
        Assert.Equal(viewData, Permissions.IsGranted(User(role), Permissions.ViewData));
    }

    [Fact]
    public void Signed_out_users_have_no_permission()
    {
        var anonymous = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Role, Roles.Admin)]));

        Assert.All(Permissions.All, p => Assert.False(Permissions.IsGranted(anonymous, p)));
    }

    [Fact]
    public void Unknown_permissions_are_a_programming_error() =>
        Assert.Throws<ArgumentException>(() => Permissions.RolesGranted("Everything"));
}
