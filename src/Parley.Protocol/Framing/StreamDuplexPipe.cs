using System.IO.Pipelines;

namespace Parley.Protocol.Framing;

/// <summary>Presents a network stream as the duplex pipe a <see cref="MessageChannel"/> reads and writes.</summary>
public sealed class StreamDuplexPipe(Stream stream) : IDuplexPipe
{
    public PipeReader Input { get; } = PipeReader.Create(stream);

    public PipeWriter Output { get; } = PipeWriter.Create(stream);
}
