using Parley.Protocol.Messages;

namespace Parley.Protocol;

/// <summary>
/// A peer broke the protocol. <see cref="Code"/> is the <see cref="ErrorCodes"/> value to answer with;
/// <see cref="Fatal"/> says whether the connection can go on (the bad frame was consumed whole) or must close.
/// The message never quotes the offending bytes, so logging it cannot leak chat content.
/// </summary>
public sealed class ProtocolException(string code, string message, bool fatal = false) : Exception(message)
{
    public string Code { get; } = code;

    public bool Fatal { get; } = fatal;
}
