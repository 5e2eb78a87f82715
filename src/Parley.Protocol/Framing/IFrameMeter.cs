namespace Parley.Protocol.Framing;

/// <summary>
/// Told the size of every whole frame a <see cref="MessageChannel"/> reads or writes, header included: the server's
/// link byte counters (issue #7). Called once per frame on the channel's reading or writing task, so it must be cheap.
/// </summary>
public interface IFrameMeter
{
    void FrameRead(int bytes);

    void FrameWritten(int bytes);
}
