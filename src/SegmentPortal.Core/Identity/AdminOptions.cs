namespace SegmentPortal.Core.Identity;

/// <summary>The first administrator, created when no admin exists. Set via environment variables (Admin__Email, Admin__Password).</summary>
public sealed class AdminOptions
{
    public const string Section = "Admin";

    public string Email { get; set; } = "admin@segmentportal.local";

    public string? Password { get; set; }

    /// <summary>Passwords that ship in samples and tutorials; never accepted outside Development.</summary>
    public static readonly IReadOnlySet<string> KnownDefaults = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        "admin", "administrator", "password", "Password1", "Password1!", "Passw0rd!", "P@ssw0rd", "P@ssword1",
        "changeme", "ChangeMe!", "ChangeMe123!", "Admin123!", "Admin@123", "Secret123!", "123456", "12345678",
        "SegmentPortal", "SegmentPortal1!", "SegmentPortal123!", "Pass123$", "Test123!",
    };

    public bool HasKnownDefaultPassword => Password is not null && KnownDefaults.Contains(Password.Trim());
}
