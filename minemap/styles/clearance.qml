<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<!-- minemap: land-release polygons coloured by outcome (IMAS 07.11). -->
<qgis version="3.22.0" styleCategories="Symbology">
  <renderer-v2 type="categorizedSymbol" attr="outcome" symbollevels="0" forceraster="0" enableorderby="0">
    <categories>
      <category value="cleared" symbol="0" label="Cleared" render="true"/>
      <category value="reduced" symbol="1" label="Reduced (technical survey)" render="true"/>
      <category value="cancelled" symbol="2" label="Cancelled (non-technical survey)" render="true"/>
      <category value="" symbol="3" label="Other or missing outcome" render="true"/>
    </categories>
    <symbols>
      <symbol type="fill" name="0" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" pass="0" locked="0" enabled="1">
          <prop k="color" v="51,160,44,128"/>
          <prop k="style" v="solid"/>
          <prop k="outline_color" v="51,160,44,255"/>
          <prop k="outline_style" v="solid"/>
          <prop k="outline_width" v="0.4"/>
          <prop k="outline_width_unit" v="MM"/>
          <prop k="joinstyle" v="miter"/>
        </layer>
      </symbol>
      <symbol type="fill" name="1" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" pass="0" locked="0" enabled="1">
          <prop k="color" v="178,223,138,128"/>
          <prop k="style" v="solid"/>
          <prop k="outline_color" v="178,223,138,255"/>
          <prop k="outline_style" v="solid"/>
          <prop k="outline_width" v="0.4"/>
          <prop k="outline_width_unit" v="MM"/>
          <prop k="joinstyle" v="miter"/>
        </layer>
      </symbol>
      <symbol type="fill" name="2" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" pass="0" locked="0" enabled="1">
          <prop k="color" v="166,206,227,128"/>
          <prop k="style" v="solid"/>
          <prop k="outline_color" v="166,206,227,255"/>
          <prop k="outline_style" v="solid"/>
          <prop k="outline_width" v="0.4"/>
          <prop k="outline_width_unit" v="MM"/>
          <prop k="joinstyle" v="miter"/>
        </layer>
      </symbol>
      <symbol type="fill" name="3" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" pass="0" locked="0" enabled="1">
          <prop k="color" v="106,61,154,128"/>
          <prop k="style" v="solid"/>
          <prop k="outline_color" v="106,61,154,255"/>
          <prop k="outline_style" v="solid"/>
          <prop k="outline_width" v="0.4"/>
          <prop k="outline_width_unit" v="MM"/>
          <prop k="joinstyle" v="miter"/>
        </layer>
      </symbol>
    </symbols>
  </renderer-v2>
</qgis>
