using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SegmentPortal.Core.Identity;
using SegmentPortal.Tests.Infrastructure;

namespace SegmentPortal.Tests.Identity;

public sealed class AdminBootstrapperTests : IAsyncLifetime
{
    private CoreHarness _harness = null!;

    public async ValueTask InitializeAsync() => _harness = await CoreHarness.CreateAsync();

    public ValueTask DisposeAsync() => _harness.DisposeAsync();

    private async Task<(BootstrapOutcome Outcome, CapturingLogger<AdminBootstrapper> Log)> RunAsync(AdminOptions options, bool development)
    {
        await using var scope = _harness.Services.CreateAsyncScope();
        var log = new CapturingLogger<AdminBootstrapper>();
        var bootstrapper = new AdminBootstrapper(
            scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>(),
            scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>(),
            Options.Create(options), TimeProvider.System, log);
        return (await bootstrapper.EnsureAdminAsync(development), log);
    }

    private async Task<bool> CanSignInAsync(string email, string password)
    {
        await using var scope = _harness.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<AppUser>>();
        var user = await users.FindByEmailAsync(email);
        return user is not null && await users.CheckPasswordAsync(user, password) && await users.IsInRoleAsync(user, Roles.Admin);
    }

    [Fact]
    public async Task Creates_the_roles_and_the_configured_admin()
    {
        var (outcome, _) = await RunAsync(new AdminOptions { Email = "boss@example.com", Password = "Str0ng-and-unique" }, development: false);

        Assert.Equal(BootstrapOutcome.CreatedFromConfiguration, outcome);
        Assert.True(await CanSignInAsync("boss@example.com", "Str0ng-and-unique"));
        await using var scope = _harness.Services.CreateAsyncScope();
        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
        foreach (var role in Roles.All)
        {
            Assert.True(await roles.RoleExistsAsync(role));
        }
    }

    [Fact]
    public async Task In_development_without_a_password_one_is_generated_and_printed_once()
    {
        var (first, log) = await RunAsync(new AdminOptions(), development: true);
        var (second, secondLog) = await RunAsync(new AdminOptions(), development: true);

        Assert.Equal(BootstrapOutcome.CreatedWithGeneratedPassword, first);
        var line = Assert.Single(log.Lines, l => l.Contains("password", StringComparison.OrdinalIgnoreCase));
        var password = line.Split("with password ")[1].Split(' ')[0];
        Assert.True(await CanSignInAsync(new AdminOptions().Email, password));

        Assert.Equal(BootstrapOutcome.AdminExists, second);
        Assert.DoesNotContain(secondLog.Lines, l => l.Contains(password, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Outside_development_no_admin_and_no_password_refuses_to_start()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => RunAsync(new AdminOptions(), development: false));

        Assert.Contains("Admin__Password", error.Message);
    }

    [Theory]
    [InlineData("admin")]
    [InlineData("ChangeMe123!")]
    [InlineData("P@ssw0rd")]
    public void Outside_development_a_known_default_password_refuses_to_start(string password)
    {
        Assert.Throws<InvalidOperationException>(() =>
            AdminBootstrapper.ValidateForEnvironment(new AdminOptions { Password = password }, isDevelopment: false));
        AdminBootstrapper.ValidateForEnvironment(new AdminOptions { Password = password }, isDevelopment: true);
    }

    [Fact]
    public async Task An_existing_admin_is_left_alone()
    {
        await _harness.CreateUserAsync("first@example.com", "Str0ng-and-unique", Roles.Admin);

        var (outcome, _) = await RunAsync(new AdminOptions { Email = "other@example.com", Password = "An0ther-strong-one" }, development: false);

        Assert.Equal(BootstrapOutcome.AdminExists, outcome);
        Assert.False(await CanSignInAsync("other@example.com", "An0ther-strong-one"));
    }

    [Fact]
    public void Generated_passwords_meet_the_policy_and_differ()
    {
        var passwords = Enumerable.Range(0, 50).Select(_ => AdminBootstrapper.GeneratePassword()).ToList();

        Assert.Equal(50, passwords.Distinct().Count());
        Assert.All(passwords, p =>
        {
            Assert.Equal(16, p.Length);
            Assert.Contains(p, char.IsUpper);
            Assert.Contains(p, char.IsLower);
            Assert.Contains(p, char.IsDigit);
        });
    }
}
