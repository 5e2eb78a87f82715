using System.Text;

namespace Parley.Protocol.Security;

/// <summary>
/// Builds RFC 5802's AuthMessage from Parley's HELLO and CHALLENGE. Parley adds one extension attribute, <c>e=</c>,
/// the base64 ephemeral ECDH public key of each side, so the proof and the server signature also authenticate the
/// key agreement that A8 uses (a man in the middle who swaps keys breaks both). No channel binding: <c>c=biws</c>.
/// </summary>
public static class AuthTranscript
{
    public static byte[] AuthMessage(string clientId, string clientNonce, string clientEphemeral,
        string rand, string salt, int iterations, string serverEphemeral)
    {
        var clientFirstBare = $"n={clientId},r={clientNonce},e={clientEphemeral}";
        var serverFirst = $"r={rand},s={salt},i={iterations},e={serverEphemeral}";
        var clientFinalWithoutProof = $"c=biws,r={rand}";
        return Encoding.UTF8.GetBytes($"{clientFirstBare},{serverFirst},{clientFinalWithoutProof}");
    }
}
