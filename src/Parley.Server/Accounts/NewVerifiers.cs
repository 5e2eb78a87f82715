using Parley.Protocol;
using Parley.Protocol.Security;

namespace Parley.Server.Accounts;

/// <summary>
/// The one check of a new password's verifier from the wire, for SIGNUP and PASSWD (docs/PROTOCOL.md §10.4, §10.8):
/// exactly the announced iterations, 32-byte keys, and a salt exactly as long as the fake salts unknown IDs get, so
/// no account's CHALLENGE stands out from an unknown ID's.
/// </summary>
internal static class NewVerifiers
{
    /// <summary>The verifier, or null when a field is missing or malformed (the caller answers with <see cref="Rule"/>).</summary>
    public static ScramVerifier? Parse(string? salt, int? iterations, string? storedKey, string? serverKey, int requiredIterations)
    {
        if (salt is null || storedKey is null || serverKey is null || iterations != requiredIterations)
        {
            return null;
        }

        var saltBytes = WireBase64.DecodeOrEmpty(salt);
        var stored = WireBase64.DecodeOrEmpty(storedKey);
        var server = WireBase64.DecodeOrEmpty(serverKey);
        return saltBytes.Length == Scram.SaltBytes && stored.Length == Scram.KeyBytes && server.Length == Scram.KeyBytes
            ? new ScramVerifier(saltBytes, requiredIterations, stored, server)
            : null;
    }

    public static string Rule(int requiredIterations) =>
        $"The new password's verifier must have a {Scram.SaltBytes}-byte salt, {requiredIterations} iterations and 32-byte keys.";
}
