using Microsoft.AspNetCore.DataProtection;
using SegmentPortal.Core.Connections;

namespace SegmentPortal.Web.Infrastructure;

/// <summary>
/// Connection passwords encrypted with ASP.NET Core Data Protection. The keys live in the data folder's <c>keys/</c>,
/// apart from the metadata database, so a copy of the database alone does not reveal the passwords.
/// </summary>
internal sealed class DataProtectionSecretProtector(IDataProtectionProvider provider) : ISecretProtector
{
    public const string Purpose = "SegmentPortal.Connections.Password.v1";

    private readonly IDataProtector _protector = provider.CreateProtector(Purpose);

    public string Protect(string plaintext) => _protector.Protect(plaintext);

    public string Unprotect(string protectedValue) => _protector.Unprotect(protectedValue);
}
