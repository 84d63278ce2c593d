using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SegmentPortal.Core.Identity;

public enum BootstrapOutcome
{
    AdminExists,
    CreatedFromConfiguration,
    CreatedWithGeneratedPassword,
}

/// <summary>
/// First run: makes sure the roles exist and that there is an administrator. Outside Development it refuses to
/// invent a password or to accept a well-known one.
/// </summary>
public sealed class AdminBootstrapper(
    UserManager<AppUser> users,
    RoleManager<IdentityRole> roles,
    IOptions<AdminOptions> options,
    TimeProvider clock,
    ILogger<AdminBootstrapper> logger)
{
    /// <summary>Checks the admin secret before anything else starts, so a misconfigured server fails fast.</summary>
    public static void ValidateForEnvironment(AdminOptions options, bool isDevelopment)
    {
        if (!isDevelopment && options.HasKnownDefaultPassword)
        {
            throw new InvalidOperationException(
                "Admin:Password is a well-known default. Set a strong, unique Admin__Password before starting outside Development.");
        }
    }

    public async Task<BootstrapOutcome> EnsureAdminAsync(bool isDevelopment)
    {
        foreach (var role in Roles.All)
        {
            if (!await roles.RoleExistsAsync(role))
            {
                Check(await roles.CreateAsync(new IdentityRole(role)), $"create role {role}");
            }
        }

        var admins = await users.GetUsersInRoleAsync(Roles.Admin);
        if (admins.Any(a => !a.IsDisabled))
        {
            return BootstrapOutcome.AdminExists;
        }

        var settings = options.Value;
        ValidateForEnvironment(settings, isDevelopment);
        var generated = false;
        var password = settings.Password;
        if (string.IsNullOrWhiteSpace(password))
        {
            if (!isDevelopment)
            {
                throw new InvalidOperationException(
                    "No administrator exists and Admin:Password is not configured. Set Admin__Email and Admin__Password " +
                    "(environment variables) to create the first administrator.");
            }
            password = GeneratePassword();
            generated = true;
        }

        var email = string.IsNullOrWhiteSpace(settings.Email) ? new AdminOptions().Email : settings.Email.Trim();
        var user = await users.FindByEmailAsync(email);
        if (user is null)
        {
            user = new AppUser
            {
                UserName = email,
                Email = email,
                EmailConfirmed = true,
                DisplayName = "Administrator",
                CreatedAt = clock.GetUtcNow(),
            };
            Check(await users.CreateAsync(user, password), "create the first administrator");
        }
        else
        {
            // The configured address exists but lost its admin role or was disabled: restore it with the configured password.
            user.IsDisabled = false;
            Check(await users.UpdateAsync(user), "enable the administrator");
            Check(await users.RemovePasswordAsync(user), "reset the administrator's password");
            Check(await users.AddPasswordAsync(user, password), "reset the administrator's password");
        }
        if (!await users.IsInRoleAsync(user, Roles.Admin))
        {
            Check(await users.AddToRoleAsync(user, Roles.Admin), "make the first user an administrator");
        }

        if (generated)
        {
            // Printed once: the next start finds the admin and prints nothing.
            logger.LogWarning(
                "First administrator created. Sign in as {Email} with password {Password} — it is shown only this once. " +
                "Change it under Admin > Users, or set Admin__Password before the first start.",
                email, password);
            return BootstrapOutcome.CreatedWithGeneratedPassword;
        }
        logger.LogInformation("First administrator {Email} created from configuration", email);
        return BootstrapOutcome.CreatedFromConfiguration;
    }

    /// <summary>16 random characters with every class the password policy asks for.</summary>
    public static string GeneratePassword()
    {
        const string lower = "abcdefghijkmnopqrstuvwxyz", upper = "ABCDEFGHJKLMNPQRSTUVWXYZ", digits = "23456789", symbols = "!@#$%*-_+=";
        const string all = lower + upper + digits + symbols;
        var chars = new char[16];
        chars[0] = lower[RandomNumberGenerator.GetInt32(lower.Length)];
        chars[1] = upper[RandomNumberGenerator.GetInt32(upper.Length)];
        chars[2] = digits[RandomNumberGenerator.GetInt32(digits.Length)];
        chars[3] = symbols[RandomNumberGenerator.GetInt32(symbols.Length)];
        for (var i = 4; i < chars.Length; i++)
        {
            chars[i] = all[RandomNumberGenerator.GetInt32(all.Length)];
        }
        RandomNumberGenerator.Shuffle(chars.AsSpan());
        return new string(chars);
    }

    private static void Check(IdentityResult result, string what)
    {
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(
                $"Could not {what}: {string.Join(" ", result.Errors.Select(e => e.Description))}");
        }
    }
}
