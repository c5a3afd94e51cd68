"""The imaging toolkit every renderer shares (draft art, mockups, studio previews, print files):
colours, gradients, mask operations, the font, PNG encoding and the PNG check for uploads."""
