namespace SegmentPortal.Core;

/// <summary>An error whose message is written for the person using the portal, and safe to show them.</summary>
public class PortalException(string message, Exception? inner = null) : Exception(message, inner);
