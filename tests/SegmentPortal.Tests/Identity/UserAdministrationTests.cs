using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using SegmentPortal.Core.Identity;
using SegmentPortal.Core.Users;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Identity;

public sealed class UserAdministrationTests : IAsyncLifetime
{
    private CoreHarness _harness = null!;
    private AppUser _admin = null!;

    public async ValueTask InitializeAsync()
    {
        _harness = await CoreHarness.CreateAsync();
        _admin = await _harness.SignInAsNewUserAsync("admin@example.com", Roles.Admin);
    }

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    private Task<T> Admin<T>(Func<UserAdministration, Task<T>> action) => _harness.WithAsync(action);

    private Task Admin(Func<UserAdministration, Task> action) => _harness.WithAsync(action);

    private async Task<AppUser> FindAsync(string id)
    {
        await using var scope = _harness.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>().FindByIdAsync(id))!;
    }

    [Fact]
    public async Task Creates_a_user_with_roles_and_lists_them()
    {
        var id = await Admin(u => u.CreateAsync(new NewUser(" ann@example.com ", "Ann", "Correct-horse-9", [Roles.Analyst, Roles.Viewer])));

        var users = await Admin(u => u.ListAsync(TestContext.Current.CancellationToken));
        var ann = Assert.Single(users, u => u.Id == id);
        Assert.Equal("ann@example.com", ann.Email);
        Assert.Equal("Ann", ann.DisplayName);
        Assert.Equal([Roles.Analyst, Roles.Viewer], ann.Roles);
        Assert.False(ann.IsDisabled);
        Assert.Equal([Roles.Admin], users.Single(u => u.Email == "admin@example.com").Roles);
    }

    [Theory]
    [InlineData("", "Correct-horse-9", "Viewer", "email")]
    [InlineData("x@example.com", "short", "Viewer", "Passwords must be at least 10 characters")]
    [InlineData("x@example.com", "Correct-horse-9", "Owner", "Unknown role")]
    [InlineData("admin@example.com", "Correct-horse-9", "Viewer", "already exists")]
    public async Task Bad_new_users_are_refused_with_a_clear_message(string email, string password, string role, string message)
    {
        var error = await Assert.ThrowsAsync<UserAdministrationException>(() =>
            Admin(u => u.CreateAsync(new NewUser(email, "", password, [role]))));

        Assert.Contains(message, error.Message);
    }

    [Fact]
    public async Task Disabling_renews_the_security_stamp_and_blocks_sign_in()
    {
        var id = await Admin(u => u.CreateAsync(new NewUser("bob@example.com", "Bob", "Correct-horse-9", [Roles.Viewer])));
        var stampBefore = (await FindAsync(id)).SecurityStamp;

        await Admin(u => u.SetDisabledAsync(id, true));

        var bob = await FindAsync(id);
        Assert.True(bob.IsDisabled);
        Assert.NotEqual(stampBefore, bob.SecurityStamp);
        await using var scope = _harness.Services.CreateAsyncScope();
        var confirmation = scope.ServiceProvider.GetRequiredService<IUserConfirmation<AppUser>>();
        Assert.False(await confirmation.IsConfirmedAsync(scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>(), bob));

        await Admin(u => u.SetDisabledAsync(id, false));
        Assert.False((await FindAsync(id)).IsDisabled);
    }

    [Fact]
    public async Task Admins_cannot_disable_or_demote_themselves_but_can_disable_another_admin()
    {
        var self = await Assert.ThrowsAsync<UserAdministrationException>(() => Admin(u => u.SetDisabledAsync(_admin.Id, true)));
        Assert.Contains("your own", self.Message);

        var demote = await Assert.ThrowsAsync<UserAdministrationException>(() => Admin(u => u.SetRolesAsync(_admin.Id, [Roles.Viewer])));
        Assert.Contains("own Admin role", demote.Message);

        var other = await _harness.CreateUserAsync("other-admin@example.com", "Correct-horse-9", Roles.Admin);
        await Admin(u => u.SetDisabledAsync(other.Id, true));
        Assert.True((await FindAsync(other.Id)).IsDisabled);
    }

    [Fact]
    public async Task Reset_password_changes_it_and_lifts_a_lockout()
    {
        var id = await Admin(u => u.CreateAsync(new NewUser("cat@example.com", "Cat", "Correct-horse-9", [Roles.Viewer])));
        await using (var scope = _harness.Services.CreateAsyncScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
            await users.SetLockoutEndDateAsync((await users.FindByIdAsync(id))!, DateTimeOffset.UtcNow.AddHours(1));
        }
        Assert.True((await Admin(u => u.ListAsync(TestContext.Current.CancellationToken))).Single(u => u.Id == id).IsLockedOut);

        await Admin(u => u.ResetPasswordAsync(id, "Brand-new-pass-7"));

        await using var check = _harness.Services.CreateAsyncScope();
        var manager = check.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var cat = (await manager.FindByIdAsync(id))!;
        Assert.True(await manager.CheckPasswordAsync(cat, "Brand-new-pass-7"));
        Assert.False(await manager.IsLockedOutAsync(cat));
    }

    [Fact]
    public async Task Roles_can_be_changed()
    {
        var id = await Admin(u => u.CreateAsync(new NewUser("dan@example.com", "Dan", "Correct-horse-9", [Roles.Viewer])));

        await Admin(u => u.SetRolesAsync(id, [Roles.Analyst]));

        Assert.Equal([Roles.Analyst], (await Admin(u => u.ListAsync(TestContext.Current.CancellationToken))).Single(u => u.Id == id).Roles);
    }

    [Theory]
    [InlineData(Roles.Analyst)]
    [InlineData(Roles.Viewer)]
    public async Task Only_admins_may_manage_users(string role)
    {
        await _harness.SignInAsNewUserAsync($"{role.ToLowerInvariant()}@example.com", role);

        await Assert.ThrowsAsync<PermissionDeniedException>(() => Admin(u => u.ListAsync(TestContext.Current.CancellationToken)));
        await Assert.ThrowsAsync<PermissionDeniedException>(() =>
            Admin(u => u.CreateAsync(new NewUser("eve@example.com", "Eve", "Correct-horse-9", [Roles.Admin]))));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => Admin(u => u.SetDisabledAsync(_admin.Id, true)));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => Admin(u => u.ResetPasswordAsync(_admin.Id, "Taken-over-123")));
        await Assert.ThrowsAsync<PermissionDeniedException>(() => Admin(u => u.SetRolesAsync(_admin.Id, [Roles.Viewer])));
    }

    [Fact]
    public async Task Theme_preference_is_remembered_per_user()
    {
        await _harness.WithAsync<UserAccount>(a => a.SetDarkModeAsync(true, TestContext.Current.CancellationToken));
        Assert.True(await _harness.WithAsync<UserAccount, bool>(a => a.GetDarkModeAsync(TestContext.Current.CancellationToken)));

        await _harness.SignInAsNewUserAsync("light@example.com", Roles.Viewer);
        Assert.False(await _harness.WithAsync<UserAccount, bool>(a => a.GetDarkModeAsync(TestContext.Current.CancellationToken)));
    }
}
