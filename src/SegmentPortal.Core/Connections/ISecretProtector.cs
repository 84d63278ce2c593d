namespace SegmentPortal.Core.Connections;

/// <summary>
/// Encrypts secrets kept in the metadata store (connection passwords). The web host implements it with ASP.NET Core
/// Data Protection, whose keys live in the data folder, not in the metadata database.
/// </summary>
public interface ISecretProtector
{
    string Protect(string plaintext);

    /// <summary>Throws <see cref="System.Security.Cryptography.CryptographicException"/> when the value cannot be decrypted (keys lost or value tampered with).</summary>
    string Unprotect(string protectedValue);
}
