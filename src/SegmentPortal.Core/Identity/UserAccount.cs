using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using SegmentPortal.Core.Persistence;

namespace SegmentPortal.Core.Identity;

/// <summary>What signed-in users keep about themselves: their theme, when they last signed in.</summary>
public sealed class UserAccount(ICurrentUser currentUser, IPortalDbFactory dbFactory, TimeProvider clock)
{
    public async Task<bool> GetDarkModeAsync(CancellationToken cancellationToken = default)
    {
        var id = (await currentUser.GetPrincipalAsync()).UserId();
        if (id is null)
        {
            return false;
        }
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        return await db.Users.Where(u => u.Id == id).Select(u => u.PrefersDarkMode).FirstOrDefaultAsync(cancellationToken);
    }

    public async Task SetDarkModeAsync(bool dark, CancellationToken cancellationToken = default)
    {
        var id = (await currentUser.GetPrincipalAsync()).UserId()
            ?? throw new PermissionDeniedException("Sign in to save preferences.");
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        await db.Users.Where(u => u.Id == id)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.PrefersDarkMode, dark), cancellationToken);
    }

    public async Task RecordSignInAsync(string userId, CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow();
        await using var db = await dbFactory.CreateAsync(cancellationToken);
        await db.Users.Where(u => u.Id == userId)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.LastSignInAt, now), cancellationToken);
    }
}

/// <summary>Sign-in asks this before letting anyone in: a disabled account is not allowed.</summary>
public sealed class EnabledUserConfirmation : IUserConfirmation<AppUser>
{
    public Task<bool> IsConfirmedAsync(UserManager<AppUser> manager, AppUser user) => Task.FromResult(!user.IsDisabled);
}
