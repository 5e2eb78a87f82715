using System.Security.Cryptography;
using Parley.Protocol.Framing;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;
using Parley.Protocol.Security.EndToEnd;

namespace Parley.Benchmarks;

/// <summary>The CHAT body a benchmark carries.</summary>
public enum ChatBody
{
    /// <summary>64 bytes of plain ASCII text: a short body with no envelope.</summary>
    Text64,

    /// <summary>
    /// The end-to-end envelope of a 64-character text, 497 bytes: what a current client really sends
    /// (SealedMessage.OverheadBytes of 303, then base64 and the "e2e1:" prefix).
    /// </summary>
    Envelope497,
}

/// <summary>The inputs every benchmark shares, built once in a global setup so all of them measure the same bytes.</summary>
internal static class ChatBodies
{
    public const string SessionId = "0a1b2c3d";

    /// <summary>64 characters, the text of every body here.</summary>
    public const string Text = "Hello Bob, are we still on for lunch on Friday at noon? -- Alice";

    public static readonly MessageContext Context = new(MessageKind.Chat, "alice", "bob", SessionId);

    public static string Body(ChatBody body)
    {
        if (body == ChatBody.Text64)
        {
            return Text;
        }

        using var alice = IdentityKey.Create();
        using var bob = IdentityKey.Create();
        return SealedMessage.Seal(alice, bob.Public, Context, Text);
    }

    /// <summary>The CHAT as a client sends it to the server (the server adds from and sent_at when it relays).</summary>
    public static Chat Message(ChatBody body) => new(SessionId, Body(body));

    /// <summary>Fresh random record keys for one direction.</summary>
    public static DirectionKeys Keys() =>
        new(RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(KeySchedule.IvBytes));

    /// <summary>The 5-byte header of a sealed frame around <paramref name="plaintextLength"/> bytes.</summary>
    public static byte[] SealedHeader(int plaintextLength)
    {
        var header = new byte[Frame.HeaderBytes];
        Frame.WriteHeader(header, plaintextLength + RecordCipher.TagBytes, FrameKind.Sealed);
        return header;
    }
}
