// The 478-point face mesh layout (MediaPipe's numbering): 468 face points, then 10 iris points. "Right" and "left"
// are the subject's (the right eye is on the image's left in a non-mirrored video).

export const MESH_POINTS = 468;
export const LANDMARKS = 478;
/** Iris points: centre, then four on the iris boundary. */
export const RIGHT_IRIS = [468, 469, 470, 471, 472] as const;
export const LEFT_IRIS = [473, 474, 475, 476, 477] as const;

/** Eye corners [outer, inner]. */
export const RIGHT_EYE_CORNERS = [33, 133] as const;
export const LEFT_EYE_CORNERS = [263, 362] as const;
